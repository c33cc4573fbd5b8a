"""Private data stays private (SPEC section 9): no phone number, name or
plate delivered in the landing appears anywhere in the published warehouse
(every schema, every relation, every column), nor in any relation of the
working copy but its raw layer, nor in the dashboards; the published file
holds the analyst schemas and nothing else, and is the only warehouse file
others may read. The raw layer does hold the values (so the scan looks for
values that are really there)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from independent import read_landing_csv

from orchestration import settings
from orchestration.assets.dashboards import PANEL_CACHE_DIR
from orchestration.publish import working_copy_path

HAND_LANDING = Path(__file__).resolve().parent / "fixtures" / "hand_landing"

# What the published file may hold (SPEC section 9, docs/decisions.md): the
# marts (data-quality relations included), the validation results, the seeds.
PUBLISHED_SCHEMAS = {"marts", "ops", "seeds"}
# job: the record of the last complete run (orchestration/unchanged_run.py), hashes and counts.
WORKING_NON_RAW_SCHEMAS = {"staging", "intermediate", "marts", "seeds", "ops", "job"}


@pytest.fixture(scope="module")
def private_values(demo_build) -> set[str]:
    """Every name, phone and plate of the landing's customer and vehicle files."""
    values = set()
    for path in demo_build.landing.glob("dms/*/*/customers.csv"):
        for row in read_landing_csv(path, "dms_customers"):
            values.update(v for v in (row["name"], row["phone"]) if v.strip())
    for path in demo_build.landing.glob("dms/*/*/vehicles.csv"):
        for row in read_landing_csv(path, "dms_vehicles"):
            if row["plate_no"].strip():
                values.add(row["plate_no"])
    assert len(values) > 100
    return values


@pytest.fixture(scope="module")
def scan(demo_build, private_values):
    """A connection with the published warehouse attached read-only as `pub`,
    its working copy as `work`, and the private values in a table of its own
    in-memory database."""
    con = duckdb.connect()
    con.execute(f"attach '{demo_build.warehouse}' as pub (read_only)")
    con.execute(f"attach '{working_copy_path(demo_build.warehouse)}' as work (read_only)")
    con.execute("create table private_values (value varchar)")
    con.executemany("insert into private_values values (?)", [(v,) for v in private_values])
    yield con
    con.close()


def _columns(con, database: str) -> list[tuple[str, str, str, str]]:
    """Every column of every relation (tables and views) of the database."""
    return con.execute(
        "select schema_name, table_name, column_name, data_type from duckdb_columns() "
        "where database_name = ? and not internal order by all", [database]
    ).fetchall()


def _leaks(con, database: str, schema: str, table: str, column: str, data_type: str) -> int:
    """Values of the column that equal a private value, or contain a phone or
    plate (7 characters or more); list columns are checked element by
    element, any other type as its text (a phone kept as a number too)."""
    values = f'cast(unnest("{column}") as varchar)' if data_type.endswith("[]") else f'cast("{column}" as varchar)'
    return con.execute(
        f"""select count(*) from (select {values} as cell from {database}."{schema}"."{table}")
            where cell in (select value from private_values)
               or exists (select 1 from private_values where length(value) >= 7 and contains(cell, value))"""
    ).fetchone()[0]


def test_the_scan_finds_the_private_values_in_the_working_copys_raw_layer(scan):
    # the same check on the raw layer, where they belong: it does find them
    for table, column in (("dms_customers", "name"), ("dms_customers", "phone"), ("dms_vehicles", "plate_no")):
        assert _leaks(scan, "work", "raw", table, column, "VARCHAR") > 50, column


def test_the_published_file_holds_the_analyst_schemas_only(scan):
    schemas = {s for (s,) in scan.execute(
        "select schema_name from duckdb_schemas() where database_name = 'pub' and not internal "
        "and schema_name <> 'main'").fetchall()}
    assert schemas == PUBLISHED_SCHEMAS
    relations = {(s, t) for s, t, _, _ in _columns(scan, "pub")}
    assert {s for s, _ in relations} == PUBLISHED_SCHEMAS  # nothing in main either
    assert {("marts", "kpi_store_month"), ("marts", "fct_customer_month"), ("marts", "call_list"),
            ("marts", "data_quality_quarantine"), ("marts", "data_quality_rejected_files"),
            ("marts", "source_freshness"), ("ops", "validation_results"),
            ("seeds", "churn_rules"), ("seeds", "industry_churn_lines")} <= relations


def test_no_column_of_the_published_file_holds_a_name_phone_or_plate(scan):
    columns = _columns(scan, "pub")
    assert len({(s, t) for s, t, _, _ in columns}) >= 15
    leaks = {f"{s}.{t}.{c}": n for s, t, c, d in columns if (n := _leaks(scan, "pub", s, t, c, d))}
    assert leaks == {}


def test_no_relation_of_the_working_copy_but_raw_holds_a_name_phone_or_plate(scan):
    columns = [c for c in _columns(scan, "work") if c[0] != "raw"]
    assert {s for s, _, _, _ in columns} == WORKING_NON_RAW_SCHEMAS
    assert len({(s, t) for s, t, _, _ in columns}) > 30  # every staging, intermediate and mart model
    leaks = {f"{s}.{t}.{c}": n for s, t, c, d in columns if (n := _leaks(scan, "work", s, t, c, d))}
    assert leaks == {}


def test_the_working_copy_is_the_owners_only_and_the_published_file_readable_by_all(demo_build):
    assert stat.S_IMODE(working_copy_path(demo_build.warehouse).stat().st_mode) == 0o600
    assert stat.S_IMODE(demo_build.warehouse.stat().st_mode) == 0o644
    # The store pages' kept month panels sit beside the working copy, the job's own.
    panels = demo_build.warehouse.parent / PANEL_CACHE_DIR
    assert stat.S_IMODE(panels.stat().st_mode) == 0o700
    kept = list(panels.iterdir())
    assert kept and all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in kept)


def test_the_dashboards_hold_no_name_phone_or_plate(demo_build, private_values):
    pages = list((demo_build.root / "dashboards").rglob("*.html"))
    assert pages
    long_values = [v for v in private_values if len(v) >= 3]
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert not [v for v in long_values if v in text], page


# ------------------------------------------------------------ the pseudonym key


def _run(landing: Path, tmp_path: Path, key: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != settings.PSEUDONYM_KEY_ENV}
    if key is not None:
        env[settings.PSEUDONYM_KEY_ENV] = key
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", "--landing", str(landing),
         "--warehouse", str(tmp_path / "w.duckdb")],
        capture_output=True, text=True, env=env,
    )


@pytest.mark.parametrize("key", [None, "", settings.DEMO_PSEUDONYM_KEY])
def test_a_real_landing_is_refused_without_a_key_of_its_own(tmp_path, key):
    landing = tmp_path / "landing"
    shutil.copytree(HAND_LANDING, landing)
    proc = _run(landing, tmp_path, key)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert settings.PSEUDONYM_KEY_ENV in proc.stderr and str(landing) in proc.stderr
    assert not (tmp_path / "w.duckdb").exists(), "nothing is built with the demo key"


def test_only_a_demo_landing_may_use_the_demo_key(tmp_path, demo_build, monkeypatch):
    monkeypatch.delenv(settings.PSEUDONYM_KEY_ENV, raising=False)
    assert settings.pseudonym_key(demo_build.landing) == settings.DEMO_PSEUDONYM_KEY
    with pytest.raises(settings.SettingsError):
        settings.pseudonym_key(HAND_LANDING)
    monkeypatch.setenv(settings.PSEUDONYM_KEY_ENV, "a-group-secret")
    assert settings.pseudonym_key(HAND_LANDING) == "a-group-secret"
    assert settings.pseudonym_key(demo_build.landing) == "a-group-secret"
