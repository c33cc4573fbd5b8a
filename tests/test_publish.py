"""Write, audit, publish (orchestration/publish.py): the job builds in a
working copy, and the file analysts read holds its analyst relations only
(marts, ops, seeds: same names, columns, types and rows) and changes only by
an atomic swap after the critical checks pass. A reader process querying the
published file during a real run never meets a lock error nor a half-built
state; a failed audit leaves the last good warehouse published and says why;
publishing only the months that changed gives the file a full publish gives."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import duckdb
import pytest
from conftest import HAND_KEY, HAND_LANDING

from orchestration import settings
from orchestration.publish import NotPublished, publish, working_copy_path

# The schemas the published file holds (SPEC section 9; docs/decisions.md).
PUBLISHED_SCHEMAS = ("marts", "ops", "seeds")

LAST_DAY = "2024-07-31"  # the hand landing's last drop date

READER = textwrap.dedent("""
    # Queries the published warehouse in a loop, a fresh read-only connection
    # each time, as an analyst would, until the stop file appears.
    import json, sys, time
    from pathlib import Path
    import duckdb
    path, stop, log = sys.argv[1], Path(sys.argv[2]), open(sys.argv[3], "w")
    while not stop.exists():
        try:
            con = duckdb.connect(path, read_only=True)
            try:
                kpi_date, = con.execute("select max(as_of_date) from marts.kpi_store_month").fetchone()
                fct_date, = con.execute("select max(as_of_date) from marts.fct_customer_month").fetchone()
                on_file, = con.execute(
                    "select sum(on_file) from marts.kpi_store_month where as_of_date = ?", [kpi_date]).fetchone()
                rows, = con.execute(
                    "select count(*) from marts.fct_customer_month where as_of_date = ?", [fct_date]).fetchone()
            finally:
                con.close()
            print(json.dumps({"kpi_date": str(kpi_date), "fct_date": str(fct_date),
                              "on_file": int(on_file), "fct_rows": rows}), file=log, flush=True)
        except Exception as e:  # every failure is recorded: the test expects none
            print(json.dumps({"error": f"{type(e).__name__}: {e}"}), file=log, flush=True)
        time.sleep(0.25)  # an analyst's pace; a tighter loop takes a core from the run it watches
""")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(landing: Path, warehouse: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", "--landing", str(landing), "--warehouse", str(warehouse),
         "--dashboards", str(warehouse.parent / "dashboards"), "--data-docs", str(warehouse.parent / "data_docs")],
        capture_output=True, text=True,
        env={**os.environ, settings.PSEUDONYM_KEY_ENV: HAND_KEY},
    )


def _move(src_root: Path, dest_root: Path, relative: Path) -> None:
    target = dest_root / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    (src_root / relative).rename(target)


def _marts_differences(a: Path, b: Path) -> dict[str, int]:
    """Rows of each mart in one warehouse and not the other (load times aside)."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        tables = [t for (t,) in con.execute(
            "select table_name from duckdb_tables() where database_name = 'a' and schema_name = 'marts' order by 1"
        ).fetchall()]
        differences = {}
        for table in tables:
            cols = [c for (c,) in con.execute(
                "select column_name from duckdb_columns() where database_name = 'a' and schema_name = 'marts' "
                "and table_name = ? and column_name <> 'last_loaded_at' order by column_index", [table]
            ).fetchall()]
            select = ", ".join(f'"{c}"' for c in cols)
            (n,) = con.execute(
                f"select count(*) from ((select {select} from a.marts.{table} except all "
                f"select {select} from b.marts.{table}) union all (select {select} from b.marts.{table} "
                f"except all select {select} from a.marts.{table}))"
            ).fetchone()
            differences[table] = n
        return differences
    finally:
        con.close()


def _relations(con, database: str, schemas=None) -> dict[str, list[tuple[str, str]]]:
    """schema.table -> [(column, type)] of every table of the attached database (of `schemas` only if given)."""
    relations: dict[str, list[tuple[str, str]]] = {}
    for schema, table, column, data_type in con.execute(
        "select schema_name, table_name, column_name, data_type from duckdb_columns() "
        "where database_name = ? order by schema_name, table_name, column_index", [database]
    ).fetchall():
        if schemas is None or schema in schemas:
            relations.setdefault(f"{schema}.{table}", []).append((column, data_type))
    return relations


def _analyst_differences(working: Path, published: Path) -> dict[str, int]:
    """Rows of each analyst relation in the working copy and not in the
    published file or the other way round; asserts the published file holds
    exactly those relations, with the same columns and types."""
    con = duckdb.connect()
    try:
        con.execute(f"attach '{working}' as w (read_only)")
        con.execute(f"attach '{published}' as p (read_only)")
        wanted, got = _relations(con, "w", PUBLISHED_SCHEMAS), _relations(con, "p")
        assert got == wanted
        differences = {}
        for name in wanted:
            (n,) = con.execute(
                f"select count(*) from ((from w.{name} except all from p.{name}) "
                f"union all (from p.{name} except all from w.{name}))"
            ).fetchone()
            differences[name] = n
        return differences
    finally:
        con.close()


def test_publishing_writes_the_working_copys_analyst_relations_and_nothing_else(demo_build, tmp_path):
    working, published = tmp_path / "warehouse.work.duckdb", tmp_path / "warehouse.duckdb"
    shutil.copyfile(working_copy_path(demo_build.warehouse), working)
    before = _sha256(working)
    result = publish(working, published, audit_first=False)
    assert _sha256(working) == before  # read, never written
    differences = _analyst_differences(working, published)
    assert len(differences) >= 15 and set(differences.values()) == {0}
    with duckdb.connect(str(published), read_only=True) as con:
        assert {s for (s,) in con.execute("select schema_name from duckdb_tables()").fetchall()} == set(
            PUBLISHED_SCHEMAS)
        (rows,) = con.execute("select count(*) from marts.fct_customer_month").fetchone()
    with duckdb.connect(str(working), read_only=True) as con:
        assert con.execute("select count(*) from marts.fct_customer_month").fetchone() == (rows,)
        assert con.execute("select count(*) from raw.dms_customers").fetchone()[0] > 0
    assert rows > 1000
    assert result.relations == len(differences) and result.bytes == published.stat().st_size
    assert result.bytes < working.stat().st_size / 2  # the raw, staging and intermediate layers stay behind
    assert stat.S_IMODE(published.stat().st_mode) == 0o644
    assert not list(tmp_path.glob(".*partial*"))


def _middle_month(path: Path) -> dt.date:
    with duckdb.connect(str(path), read_only=True) as con:
        months = [m for (m,) in con.execute(
            "select distinct month_end from marts.fct_customer_month order by 1").fetchall()]
    return months[len(months) // 2]


def test_publishing_the_changed_months_gives_the_file_a_full_publish_gives(demo_build, tmp_path):
    """A build that changed fct_customer_month_stored from month M on (and
    kpi_store_month anywhere): publishing only fct's months >= M over the last
    published file, and the rest whole, equals a full publish of that build."""
    working, published = tmp_path / "warehouse.work.duckdb", tmp_path / "warehouse.duckdb"
    shutil.copyfile(working_copy_path(demo_build.warehouse), working)
    publish(working, published, audit_first=False)
    month = _middle_month(working)
    with duckdb.connect(str(working)) as con:
        changed = con.execute(
            "update marts.fct_customer_month_stored set revenue = revenue + 1 where month_end >= ?", [month]
        ).fetchone()[0]
        deleted = con.execute(
            "delete from marts.fct_customer_month_stored where month_end = (select max(month_end) "
            "from marts.fct_customer_month_stored) and vin in (select min(vin) from marts.fct_customer_month_stored)"
        ).fetchone()[0]
        con.execute("update marts.kpi_store_month set visits = visits + 1 where month_end < ?", [month])
    assert changed > 100 and deleted > 0
    # an updated row differs both ways, a deleted one (updated first) one way
    differences = _analyst_differences(working, published)
    assert differences["marts.fct_customer_month_stored"] == 2 * changed - deleted
    # the view over it (fct_customer_month) reads each file's table
    assert differences["marts.fct_customer_month"] == 2 * changed - deleted

    full = tmp_path / "full.duckdb"
    publish(working, full, audit_first=False)
    publish(working, published, audit_first=False, months_from={"marts.fct_customer_month_stored": month})
    assert set(_analyst_differences(working, published).values()) == {0}
    assert set(_analyst_differences(working, full).values()) == {0}
    assert stat.S_IMODE(published.stat().st_mode) == 0o644


def test_publishing_the_changed_months_keeps_the_earlier_months_of_the_published_file(demo_build, tmp_path):
    """What the caller says cannot have changed is taken from the last
    published file, not the working copy: the hook does publish months only."""
    working, published = tmp_path / "warehouse.work.duckdb", tmp_path / "warehouse.duckdb"
    shutil.copyfile(working_copy_path(demo_build.warehouse), working)
    publish(working, published, audit_first=False)
    month = _middle_month(working)
    with duckdb.connect(str(working)) as con:
        group_rows = con.execute("select count(*) filter (where stands_for_its_scopes) "
                                 "from marts.fct_customer_month_stored where month_end < ?", [month]).fetchone()[0]
        earlier = con.execute(
            "update marts.fct_customer_month_stored set visits = visits + 7 where month_end < ?", [month]
        ).fetchone()[0]
    publish(working, published, audit_first=False, months_from={"marts.fct_customer_month_stored": month})
    differences = _analyst_differences(working, published)
    assert earlier > 100 and differences["marts.fct_customer_month_stored"] == 2 * earlier
    assert differences["marts.fct_customer_month"] == 2 * earlier  # the view over it
    # The group view reads the store rows of the vehicles seen at one store.
    assert 0 < group_rows < earlier and differences["marts.fct_group_customer_month"] == 2 * group_rows
    # Every other relation is the working copy's.
    assert sum(differences.values()) == 4 * earlier + 2 * group_rows


def test_publishing_months_over_a_file_holding_raw_publishes_whole_analyst_relations(demo_build, tmp_path):
    """A published file that is not a base to update (here a whole working
    copy, as an older version published) is replaced by a full publish."""
    working, published = tmp_path / "warehouse.work.duckdb", tmp_path / "warehouse.duckdb"
    shutil.copyfile(working_copy_path(demo_build.warehouse), working)
    shutil.copyfile(working, published)
    publish(working, published, audit_first=False,
            months_from={"marts.fct_customer_month_stored": _middle_month(working)})
    assert set(_analyst_differences(working, published).values()) == {0}


def test_the_working_copy_and_its_write_ahead_log_are_the_owners_only(tmp_path):
    from orchestration.resources import warehouse_resource

    resource = warehouse_resource(tmp_path / "warehouse.duckdb")
    working = Path(resource.path)
    old_umask = os.umask(0o022)  # what a service account usually has: files readable by all
    try:
        with resource.connect() as con:
            con.execute("create schema raw")
            con.execute("create table raw.dms_customers as select '张三' as name, '13812345678' as phone")
            wal = working.with_name(working.name + ".wal")
            assert wal.exists() and stat.S_IMODE(wal.stat().st_mode) == 0o600
    finally:
        os.umask(old_umask)
    assert working == working_copy_path(tmp_path / "warehouse.duckdb")
    assert stat.S_IMODE(working.stat().st_mode) == 0o600
    assert not (tmp_path / "warehouse.duckdb").exists()  # the published file is written by publishing only


def test_late_corrected_and_backfilled_drops_give_the_marts_of_one_clean_run(hand_run, tmp_path):
    """SPEC section 3 and issue "re-runs that change nothing twice": a first
    run sees the landing as it stood earlier -- the last days not yet
    delivered, one day's drop late, one file delivered with a spurious RO --
    then the rest arrives: the days after 2024-07-20 (a backfill over a range),
    the late day (out of order, after later days were loaded), and the
    corrected file at the same path. The second run's marts equal those of one
    clean run over the final files (the session's `hand_run`). Meanwhile a
    reader process queries the published warehouse and never fails nor sees a
    half-built state."""
    landing, held_back = tmp_path / "landing", tmp_path / "held_back"
    shutil.copytree(HAND_LANDING, landing)
    later_days = sorted(p.relative_to(landing) for p in landing.glob("*/*/2024-07-*") if p.name > "2024-07-20")
    late_day = Path("dms/S1/2024-02-03")
    for relative in [*later_days, late_day]:
        _move(landing, held_back, relative)
    corrected = landing / "dms/S1/2024-01-20/repair_orders.csv"  # one closed customer-paid RO
    original = corrected.read_text(encoding="utf-8")
    header, row = original.splitlines()[:2]
    corrected.write_text(original + row.replace("S1-", "S1-99", 1) + "\n", encoding="utf-8")  # a spurious RO
    warehouse = tmp_path / "warehouse.duckdb"
    first = _run(landing, warehouse)
    assert first.returncode == 0, first.stdout + first.stderr
    assert working_copy_path(warehouse).exists()
    assert _marts_differences(warehouse, hand_run[0])["kpi_store_month"] > 0  # it is not the final state yet

    for relative in [*later_days, late_day]:
        _move(held_back, landing, relative)
    corrected.write_text(original, encoding="utf-8")
    stop, log = tmp_path / "stop", tmp_path / "reader.jsonl"
    # The reader logs to a file: a pipe nobody drains would stall it once full.
    reader = subprocess.Popen([sys.executable, "-c", READER, str(warehouse), str(stop), str(log)],
                              stderr=subprocess.PIPE, text=True)
    try:
        second = _run(landing, warehouse)
        time.sleep(1.0)  # the reader goes on a moment on the published build
    finally:
        stop.touch()
        _, err = reader.communicate(timeout=60)
    out = log.read_text(encoding="utf-8")
    assert second.returncode == 0, second.stdout + second.stderr
    assert "(published;" in second.stdout

    assert _marts_differences(warehouse, hand_run[0]) == dict.fromkeys(_marts_differences(warehouse, warehouse), 0)

    seen = [json.loads(line) for line in out.splitlines()]
    assert [s for s in seen if "error" in s] == [], err
    assert len(seen) > 20
    # every answer is one whole build: both marts agree on the date and the customers
    assert all(s["kpi_date"] == s["fct_date"] and s["on_file"] == s["fct_rows"] for s in seen)
    # the reader saw the old build during the run and the new one after the swap
    dates = [s["kpi_date"] for s in seen]
    assert dates[0] == "2024-07-20" and dates[-1] == LAST_DAY, Counter(dates)
    assert dates == sorted(dates)


def test_a_failed_audit_leaves_the_last_good_warehouse_published(demo_build, tmp_path):
    published = tmp_path / "warehouse.duckdb"
    working = working_copy_path(published)
    shutil.copyfile(demo_build.warehouse, published)
    shutil.copyfile(demo_build.warehouse, working)
    con = duckdb.connect(str(working))
    try:  # a build whose status counts no longer add up
        con.execute("update marts.kpi_store_month set on_file = on_file + 1 where month_end = "
                    "(select max(month_end) from marts.kpi_store_month)")
    finally:
        con.close()
    before = _sha256(published)
    with pytest.raises(NotPublished) as failed:
        publish(working, published)
    message = str(failed.value)
    assert "marts.kpi_store_month" in message and "status_counts_sum_to_on_file" in message
    assert "last good warehouse" in message
    assert _sha256(published) == before

    shutil.copyfile(demo_build.warehouse, working)  # a good build publishes
    result = publish(working, published)
    assert result.path == published and set(_analyst_differences(working, published).values()) == {0}
    assert not list(tmp_path.glob(".*partial*"))


def test_a_failed_critical_check_in_a_real_run_keeps_the_last_good_warehouse_published(
    hand_run, tmp_path, monkeypatch, capsys
):
    """`aftersales run` (in-process, the real Dagster, dbt and Great Expectations)
    with one more critical expectation on marts.kpi_store_month, one that no
    build can meet: the blocking check fails, Dagster does not run the publish
    step, the command exits non-zero naming the check, and analysts keep the
    last good warehouse, byte for byte."""
    from types import MappingProxyType

    import expectations.suites as suites
    from orchestration import cli, run_output

    never = suites.Check(
        "never_holds", suites.UNEXPECTED_ROWS,
        {"unexpected_rows_query": "SELECT store_code, month_end FROM {batch}"},
        None, True, "Every row is unexpected: a critical check no build can pass.",
    )
    patched = dict(suites.SUITES)
    patched["marts.kpi_store_month"] = (*patched["marts.kpi_store_month"], never)
    monkeypatch.setattr(suites, "SUITES", MappingProxyType(patched))

    published = tmp_path / "warehouse.duckdb"
    shutil.copyfile(hand_run[0], published)
    shutil.copyfile(working_copy_path(hand_run[0]), working_copy_path(published))
    before = _sha256(published)
    # run_pipeline sets these for dbt's subprocess: restore them after the test
    for name in (settings.WAREHOUSE_ENV, settings.LANDING_ENV):
        monkeypatch.setenv(name, os.environ.get(name, ""))
    monkeypatch.setenv(settings.PSEUDONYM_KEY_ENV, HAND_KEY)
    summaries = []
    print_summary = run_output.print_summary
    monkeypatch.setattr(run_output, "print_summary", lambda s, *a, **k: (summaries.append(s), print_summary(s, *a, **k)))

    code = cli.main(["run", "--landing", str(HAND_LANDING), "--warehouse", str(published),
                     "--dashboards", str(tmp_path / "dashboards"), "--data-docs", str(tmp_path / "docs")])
    out = capsys.readouterr().out

    assert code == 1, out
    assert "aftersales run: FAILED" in out
    assert "marts/kpi_store_month: gx_expectations (never_holds (critical))" in out
    assert "NOT updated: analysts keep the last good warehouse" in out
    assert _sha256(published) == before
    (summary,) = summaries
    assert not summary.published and summary.exit_code == 1
    assert "marts/kpi_store_month: gx_expectations (never_holds (critical))" in summary.failed_checks
    # Dagster failed the check step, which is what kept it from running the publish step
    assert any(e.startswith("gx_expectations:") and "blocking asset check" in e for e in summary.errors), summary.errors
    assert "warehouse__published" not in summary.step_seconds
    assert "warehouse__published" in summary.skipped_steps
    assert not (tmp_path / "dashboards" / "index.html").exists()
    # the new build, in the working copy, holds the validation that stopped it; the published file the last good one
    with duckdb.connect(str(working_copy_path(published)), read_only=True) as con:
        failed = con.execute("select table_name, critical_failed, failed_expectations from ops.validation_results "
                             "where not success").fetchall()
    assert ("marts.kpi_store_month", True, "never_holds") in failed
    with duckdb.connect(str(published), read_only=True) as con:
        assert not con.execute("select count(*) from ops.validation_results where critical_failed").fetchone()[0]


def test_a_run_that_published_nothing_fails_even_when_no_step_failed(tmp_path):
    """A step that never ran because another gave no output (no failure, no
    failed check) leaves the analysts on the last build: the run must say so."""
    import io

    from orchestration.pipeline import RunSummary
    from orchestration.run_output import print_summary

    summary = RunSummary(landing=tmp_path, warehouse=tmp_path / "wh.duckdb", dashboards_index=None,
                         data_docs_dir=tmp_path, range_start="2024-01-01", range_end="2024-01-02", success=True,
                         seconds=1.0, skipped_steps=["gx_expectations", "warehouse__published"])
    assert summary.exit_code == 1
    screen = io.StringIO()
    print_summary(summary, stream=screen)
    out = screen.getvalue()
    assert "aftersales run: FAILED" in out
    assert "skipped      gx_expectations, warehouse__published" in out
    assert "NOT updated: analysts keep the last good warehouse" in out
    summary.published, summary.skipped_steps = True, []
    assert summary.exit_code == 0
