"""Who sees what on the server: as each store role, every relation returns no
row of another store (every relation, not a sample) and exactly its own; a
region role sees exactly its stores and its region; group_hq sees all; the
call list is its store's and group_hq's only; a person granted a store role
logs in and sees that store; `aftersales postgres-roles` makes the roles from
reference/stores.csv."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
from postgres_compare import duckdb_relations, duckdb_rows, server_rows

from orchestration.postgres.publish import publish_to_postgres


@pytest.fixture(scope="module")
def stores(demo_build) -> dict[str, str]:
    """store code -> region, read from the landing's stores.csv with the csv module."""
    with open(demo_build.landing / "reference" / "stores.csv", encoding="utf-8-sig", newline="") as fh:
        return {row["store_code"]: row["region"] for row in csv.DictReader(fh)}


@pytest.fixture
def served(demo_build, postgres_dsn, tmp_path) -> tuple[Path, str]:
    published = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_build.warehouse, published)
    publish_to_postgres(published, postgres_dsn)
    return published, postgres_dsn


def _rows_as(conn, role: str, relation: str):
    """The relation's rows as `role` sees them, or None when it may not read it."""
    conn.execute(f'set role "{role}"')
    try:
        return server_rows(conn, relation)
    except psycopg.errors.InsufficientPrivilege:
        return None
    finally:
        conn.execute("reset role")


def _expected(published: Path, schema: str, table: str, columns: list[str], stores: set[str], regions: set[str],
              *, group: bool, call_list: bool):
    """What a role covering `stores` and `regions` (and the group when `group`)
    should read of a relation, worked out from the DuckDB file."""
    relation = f"{schema}.{table}"
    if table == "call_list" and not call_list:
        return None
    conditions = []
    codes = lambda values: "(" + ", ".join(f"'{v}'" for v in sorted(values) or ["-"]) + ")"  # noqa: E731
    if "scope_level" in columns:
        conditions.append(f"((scope_level = 'store' and scope_code in {codes(stores)}) or (scope_level = 'region' "
                          f"and scope_code in {codes(regions)}) or (scope_level = 'group' and {group}))")
    if "store_code" in columns:
        conditions.append(f"store_code in {codes(stores)}")
    if not conditions:
        # ops and seeds hold no store's rows, nor does marts.data_date (the last data date, which the
        # customer-month views read); marts.fct_group_customer_month is the group's customers.
        shared = schema in ("ops", "seeds") or (schema, table) == ("marts", "data_date")
        return duckdb_rows(published, relation) if shared or group else None
    return duckdb_rows(published, relation, " and ".join(conditions))


def test_each_store_role_sees_its_store_only_on_every_relation(served, stores):
    published, dsn = served
    relations = duckdb_relations(published)
    with psycopg.connect(dsn, autocommit=True) as conn:
        for store in stores:
            role = f"store_{store.lower()}"
            for (schema, table), columns in relations.items():
                seen = _rows_as(conn, role, f"{schema}.{table}")
                assert seen == _expected(published, schema, table, columns, {store}, set(),
                                         group=False, call_list=True), f"{role} on {schema}.{table}"
                if seen and "store_code" in columns:
                    assert {row[columns.index("store_code")] for row in seen} == {store}
                if seen and "scope_level" in columns:
                    assert {row[columns.index("scope_level")] for row in seen} == {"store"}


def test_a_region_role_sees_exactly_its_stores_and_group_hq_sees_all(served, stores):
    published, dsn = served
    relations = duckdb_relations(published)
    regions = sorted(set(stores.values()))
    assert len(regions) > 1  # a region role must leave some stores out
    with psycopg.connect(dsn, autocommit=True) as conn:
        for region in regions:
            role = f"region_{region.lower()}"
            own = {code for code, r in stores.items() if r == region}
            for (schema, table), columns in relations.items():
                assert _rows_as(conn, role, f"{schema}.{table}") == _expected(
                    published, schema, table, columns, own, {region}, group=False, call_list=False
                ), f"{role} on {schema}.{table}"
        for (schema, table) in relations:
            assert _rows_as(conn, "group_hq", f"{schema}.{table}") == duckdb_rows(published, f"{schema}.{table}")


def test_a_person_granted_a_store_role_logs_in_and_sees_that_store(served, stores, postgres_cluster):
    published, dsn = served
    store = sorted(stores)[0]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("drop role if exists alice")
        conn.execute("create role alice login")
        conn.execute(f"grant store_{store.lower()} to alice")
    alice = dsn.replace("user=postgres", "user=alice")
    with psycopg.connect(alice) as conn:
        months = conn.execute("select store_code, count(*) from marts.kpi_store_month group by 1").fetchall()
        assert months == [(store, len(duckdb_rows(published, "marts.kpi_store_month", f"store_code = '{store}'")))]
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("select count(*) from marts.fct_group_customer_month")


def test_postgres_roles_makes_the_roles_and_scopes_from_stores_csv(demo_build, stores, postgres_dsn):
    result = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "postgres-roles", "--dsn", postgres_dsn,
         "--landing", str(demo_build.landing)], capture_output=True, text=True)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(stores)} stores in {len(set(stores.values()))} regions" in result.stdout
    expected = {("store", code, f"store_{code.lower()}") for code in stores}
    expected |= {("store", code, f"region_{region.lower()}") for code, region in stores.items()}
    expected |= {("store", code, "group_hq") for code in stores}
    expected |= {("region", region, f"region_{region.lower()}") for region in stores.values()}
    expected |= {("region", region, "group_hq") for region in stores.values()}
    with psycopg.connect(postgres_dsn) as conn:
        assert set(conn.execute("select * from aftersales_access.scope_roles").fetchall()) == expected
        roles = dict(conn.execute("select rolname, rolcanlogin from pg_roles").fetchall())
    assert all(roles[role] is False for _, _, role in expected)


def test_postgres_roles_names_a_missing_stores_file(tmp_path, postgres_dsn):
    result = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "postgres-roles", "--dsn", postgres_dsn,
         "--landing", str(tmp_path)], capture_output=True, text=True)

    assert result.returncode == 2
    assert f"{tmp_path}/reference/stores.csv is missing" in result.stderr
