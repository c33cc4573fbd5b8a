"""Publishing to a real PostgreSQL server (a throwaway cluster from Debian's
binaries): the server's relations equal the published DuckDB relations cell
for cell; a second publish sends only the changed months; after one
incremental build on top of the server's, only the rows it changed; a
reader querying in a loop through a publish sees the old or the new marts,
whole, and no error; a failed publish keeps the last good marts and names
the relation; `aftersales run --postgres` publishes after the checks, and
fails named when the server cannot take it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import duckdb
import psycopg
import pytest
from landing_edits import copy_landing_without, deliver, drops
from postgres_compare import duckdb_views, duckdb_relations, duckdb_rows, server_rows

from expectations.suites import CHANGED_ROWS
from orchestration import settings
from orchestration.postgres.publish import PostgresPublishError, publish_to_postgres
from sources.demo import generate_landing


@pytest.fixture
def published(demo_build, tmp_path) -> Path:
    """A copy of the demo build's published file, which a test may change."""
    copy = tmp_path / "published" / "warehouse.duckdb"
    copy.parent.mkdir()
    shutil.copyfile(demo_build.warehouse, copy)
    return copy


def _variant(published: Path, name: str, *statements: str) -> Path:
    """Another published file: a copy of `published` changed by `statements`."""
    variant = published.with_name(name)
    shutil.copyfile(published, variant)
    with duckdb.connect(str(variant)) as con:
        for statement in statements:
            con.execute(statement)
    return variant


def _assert_server_equals(published: Path, dsn: str) -> None:
    relations = duckdb_relations(published)
    with psycopg.connect(dsn) as conn:
        held = conn.execute(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('marts', 'ops', 'seeds')").fetchall()
        assert sorted(held) == sorted(relations)
        for (schema, table), columns in relations.items():
            server_columns = [c for (c,) in conn.execute(
                "select column_name from information_schema.columns where table_schema = %s and table_name = %s "
                "order by ordinal_position", [schema, table])]
            assert server_columns == columns, f"{schema}.{table}"
            assert server_rows(conn, f"{schema}.{table}") == duckdb_rows(published, f"{schema}.{table}"), \
                f"{schema}.{table} differs"


def test_server_relations_equal_the_published_ones_cell_for_cell(published, postgres_dsn):
    result = publish_to_postgres(published, postgres_dsn)

    _assert_server_equals(published, postgres_dsn)
    # The views' rows are their tables': nothing of theirs is sent.
    views = duckdb_views(published)
    assert views == {("marts", "fct_customer_month"), ("marts", "fct_group_customer_month")}
    total = sum(len(duckdb_rows(published, f"{s}.{t}")) for s, t in duckdb_relations(published) if (s, t) not in views)
    assert (result.relations, result.in_place, result.rows_copied, result.rows_kept) == (
        len(duckdb_relations(published)), False, total, 0)
    with psycopg.connect(postgres_dsn) as conn:
        types = dict(conn.execute(
            "select a.attname, format_type(a.atttypid, a.atttypmod) from pg_attribute a "
            "where a.attrelid = 'marts.fct_customer_month'::regclass and a.attnum > 0").fetchall())
        # The published types, written out: DECIMAL(18,2) keeps its scale, dates and flags their types.
        assert {c: types[c] for c in ("store_code", "month_end", "revenue", "visits", "is_new", "daily_km",
                                       "estimated_mileage_km")} == {
            "store_code": "text", "month_end": "date", "revenue": "numeric(18,2)", "visits": "bigint",
            "is_new": "boolean", "daily_km": "double precision", "estimated_mileage_km": "integer"}
        # Nothing but the analyst schemas, the scopes and the publish record: no staging or old schema left.
        schemas = {s for (s,) in conn.execute(
            "select nspname from pg_namespace where nspname not like 'pg\\_%' and nspname <> 'information_schema'")}
        assert schemas == {"public", "marts", "ops", "seeds", "aftersales_access", "aftersales_publish"}


def test_a_second_publish_sends_only_the_changed_months(published, postgres_dsn):
    publish_to_postgres(published, postgres_dsn)
    with duckdb.connect(str(published), read_only=True) as con:
        (month,) = con.execute("select max(month_end) from marts.fct_customer_month").fetchone()
        (month_rows,) = con.execute(
            "select count(*) from marts.fct_customer_month where month_end = ?", [month]).fetchone()
    # The views' rows are their tables': nothing of theirs is sent.
    views = duckdb_views(published)
    assert views == {("marts", "fct_customer_month"), ("marts", "fct_group_customer_month")}
    total = sum(len(duckdb_rows(published, f"{s}.{t}")) for s, t in duckdb_relations(published) if (s, t) not in views)
    changed = _variant(published, "changed.duckdb",
                       f"update marts.fct_customer_month_stored set revenue = revenue + 1 where month_end = date '{month}'")

    result = publish_to_postgres(changed, postgres_dsn)

    _assert_server_equals(changed, postgres_dsn)
    assert result.in_place
    assert result.rows_copied == month_rows > 0
    assert result.rows_kept == total - month_rows
    # Not incremental: everything is sent again, into schemas swapped in.
    result = publish_to_postgres(published, postgres_dsn, incremental=False)
    assert (result.in_place, result.rows_copied) == (False, total)
    _assert_server_equals(published, postgres_dsn)


@pytest.mark.parametrize("incremental", [False, True], ids=["swapped", "in_place"])
def test_a_reader_in_a_loop_sees_the_old_or_the_new_marts_whole(published, postgres_dsn, incremental):
    relations = [f"{s}.{t}" for s, t in duckdb_relations(published)]
    smaller = _variant(published, "smaller.duckdb",
                       "delete from marts.fct_customer_month_stored where month_end = (select max(month_end) from "
                       "marts.fct_customer_month_stored)",
                       "delete from marts.kpi_scope_month where scope_level = 'store'",
                       "delete from marts.call_list where call_rank > 1")
    totals = {name: sum(len(duckdb_rows(p, r)) for r in relations) for name, p in
              (("old", published), ("new", smaller))}
    assert totals["old"] != totals["new"]
    count_all = "select " + " + ".join(f"(select count(*) from {r})" for r in relations)
    publish_to_postgres(published, postgres_dsn)
    seen, errors, done = [], [], threading.Event()

    def read():
        # As group_hq, through row-level security, as an analyst would.
        with psycopg.connect(postgres_dsn, autocommit=True) as conn:
            conn.execute("set role group_hq")
            while True:
                # A read that starts once the publishes have returned is the
                # last one: it must see the last publish whole.
                last = done.is_set()
                try:
                    seen.append(conn.execute(count_all).fetchone()[0])
                except psycopg.Error as e:
                    errors.append(e)
                if last:
                    break

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for source in (smaller, published, smaller):
            assert publish_to_postgres(source, postgres_dsn, incremental=incremental).in_place == incremental
    finally:
        done.set()
        reader.join()

    assert errors == []
    assert set(seen) == {totals["old"], totals["new"]}
    assert seen[-1] == totals["new"]


@pytest.mark.parametrize("incremental", [False, True], ids=["swapped", "in_place"])
def test_a_failed_publish_keeps_the_last_good_marts_and_names_the_relation(published, postgres_dsn, incremental):
    publish_to_postgres(published, postgres_dsn)
    # PostgreSQL text cannot hold a NUL character: this relation cannot load,
    # after the relations before it in name order have.
    broken = _variant(published, "broken.duckdb",
                      "update marts.kpi_store_month set as_of_date = as_of_date + 1",
                      "update marts.source_freshness set source = source || chr(0)")

    with pytest.raises(PostgresPublishError, match=r"publishing marts\.source_freshness .*last good marts"):
        publish_to_postgres(broken, postgres_dsn, incremental=incremental)

    _assert_server_equals(published, postgres_dsn)
    # The next good publish goes through.
    fixed = _variant(published, "fixed.duckdb", "update marts.kpi_store_month set as_of_date = as_of_date + 1")
    publish_to_postgres(fixed, postgres_dsn, incremental=incremental)
    _assert_server_equals(fixed, postgres_dsn)


def test_aftersales_run_publishes_to_the_server_and_fails_named_when_it_cannot(demo_build, postgres_cluster,
                                                                               postgres_dsn, tmp_path):
    # Without a server configured, the run sends nothing and says nothing of one.
    assert "postgres " not in demo_build.first_run.stdout
    root = tmp_path / "build"
    shutil.copytree(demo_build.root, root)
    args = [sys.executable, "-m", "orchestration.cli", "run", "--landing", str(root / "landing"),
            "--warehouse", str(root / "warehouse.duckdb"), "--dashboards", str(root / "dashboards"),
            "--data-docs", str(root / "data_docs")]

    ok = subprocess.run([*args, "--postgres", postgres_dsn], capture_output=True, text=True)

    assert ok.returncode == 0, ok.stdout[-3000:] + ok.stderr[-3000:]
    assert f"postgres     127.0.0.1:{postgres_cluster.port}/" in ok.stdout
    _assert_server_equals(root / "warehouse.duckdb", postgres_dsn)

    sent = shutil.copyfile(root / "warehouse.duckdb", tmp_path / "sent.duckdb")
    missing = postgres_cluster.dsn(dbname="no_such_database")
    failed = subprocess.run(args, capture_output=True, text=True, env={**os.environ, "AFTERSALES_POSTGRES_DSN": missing})

    assert failed.returncode == 1
    assert "error        warehouse__postgres: orchestration.postgres.publish.PostgresPublishError: cannot connect " \
           "to the PostgreSQL server" in failed.stdout
    assert 'database "no_such_database" does not exist' in failed.stdout
    # The DuckDB warehouse was still published (a new build: ops.build differs); the server keeps what it had.
    assert "(published; built in" in failed.stdout
    assert duckdb_rows(root / "warehouse.duckdb", "ops.build") != duckdb_rows(sent, "ops.build")
    _assert_server_equals(sent, postgres_dsn)


def _rows_sent_by_months(old: Path, new: Path, relation: str) -> int:
    """The rows of `new` in the months (or the whole relation, without a
    month_end) whose rows differ from `old`'s as multisets, and those
    without a month: what the month fingerprints send."""
    with duckdb.connect() as con:
        con.execute(f"attach '{old}' as old (read_only)")
        con.execute(f"attach '{new}' as new (read_only)")
        columns = [c for (c,) in con.execute(f"select column_name from (describe new.{relation})").fetchall()]
        differ = (f"(select * from old.{relation} except all select * from new.{relation}) union all "
                  f"(select * from new.{relation} except all select * from old.{relation})")
        if "month_end" not in columns:
            (differs,) = con.execute(f"select count(*) > 0 from ({differ})").fetchone()
            return con.execute(f"select count(*) from new.{relation}").fetchone()[0] if differs else 0
        (rows,) = con.execute(
            f"select count(*) from new.{relation} where month_end is null "
            f"or month_end in (select month_end from ({differ}) where month_end is not null)").fetchone()
        return rows


def _rows_changed(working: Path, published: Path, relation: str) -> int:
    """The rows of `published` that the relation's CHANGED_ROWS condition
    selects, its subqueries reading the working copy (as the DuckDB publish does)."""
    with duckdb.connect(str(working), read_only=True) as con:
        con.execute(f"attach '{published}' as pub (read_only)")
        return con.execute(f"select count(*) from pub.{relation} where {CHANGED_ROWS[relation]}").fetchone()[0]


def test_after_one_incremental_build_only_its_changed_rows_are_sent(postgres_dsn, tmp_path, monkeypatch):
    from orchestration.pipeline import run_pipeline

    generated, landing, warehouse = tmp_path / "generated", tmp_path / "landing", tmp_path / "wh" / "warehouse.duckdb"
    generate_landing(generated, seed=13, stores=2, years=1, vehicles_per_store=40, daily_days=8)
    later = sorted({d.date for d in drops(generated)})[-3:]
    copy_landing_without(generated, landing, lambda d: d.date in later)
    # run_pipeline exports the warehouse, landing and key for dbt: undone after the test.
    for name in (settings.WAREHOUSE_ENV, settings.LANDING_ENV, settings.PSEUDONYM_KEY_ENV):
        monkeypatch.delenv(name, raising=False)

    def run(day: str | None, dsn: str) -> dict:
        if day:
            assert deliver(generated, landing, lambda d: d.date == day)
        summary = run_pipeline(landing=landing, warehouse=warehouse, dashboards_dir=tmp_path / "dashboards",
                               data_docs_dir=tmp_path / "data_docs", postgres_dsn=dsn)
        assert summary.exit_code == 0, summary.errors
        return summary.postgres_publish

    first = run(None, postgres_dsn)
    assert first["updated_in_place"] is False
    before = shutil.copyfile(warehouse, tmp_path / "before.duckdb")

    # One new day, on top of the build the server holds: the rows it changed.
    sent = run(later[0], postgres_dsn)

    _assert_server_equals(warehouse, postgres_dsn)
    working = warehouse.with_name("warehouse.work.duckdb")
    # The views' rows are their tables': nothing of theirs is sent.
    views = duckdb_views(warehouse)
    tables = [(s, t) for s, t in duckdb_relations(warehouse) if (s, t) not in views]
    by_rows = sorted(r for r in CHANGED_ROWS if r.startswith("marts.") and tuple(r.split(".")) not in views)
    assert sorted(r for r, way in sent["sent_as"].items() if way == "changed rows") == by_rows
    assert sorted(r for r, way in sent["sent_as"].items() if way == "view") == sorted(f"{s}.{t}" for s, t in views)
    changed = {r: _rows_changed(working, warehouse, r) for r in by_rows}
    expected = sum(changed.values()) + sum(
        _rows_sent_by_months(before, warehouse, f"{s}.{t}") for s, t in tables if f"{s}.{t}" not in changed)
    total = sum(len(duckdb_rows(warehouse, f"{s}.{t}")) for s, t in tables)
    assert sent["updated_in_place"] is True
    assert (sent["rows_copied"], sent["rows_kept_server_side"]) == (expected, total - expected)
    assert 0 < sum(changed.values()) and expected < total
    held = shutil.copyfile(warehouse, tmp_path / "held.duckdb")

    # Two builds behind (a build not sent): the changed months, and still equal.
    run(later[1], "")
    behind = run(later[2], postgres_dsn)

    _assert_server_equals(warehouse, postgres_dsn)
    assert behind["updated_in_place"] is True
    assert "changed rows" not in behind["sent_as"].values()
    assert behind["rows_copied"] == sum(_rows_sent_by_months(held, warehouse, f"{s}.{t}") for s, t in tables)
