"""Write, audit, publish (orchestration/publish.py): the job builds in a
working copy, and the file analysts read changes only by an atomic swap after
the critical checks pass. A reader process querying the published file during
a real run never meets a lock error nor a half-built state; a failed audit
leaves the last good warehouse published and says why."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from orchestration import settings
from orchestration.publish import NotPublished, publish, working_copy_path

HAND_LANDING = Path(__file__).resolve().parent / "fixtures" / "hand_landing"
LAST_DAY = "2024-07-31"  # the hand landing's last drop date; the day before has a drop too

READER = textwrap.dedent("""
    # Queries the published warehouse in a loop, a fresh read-only connection
    # each time, as an analyst would, until the stop file appears.
    import json, sys, time
    from pathlib import Path
    import duckdb
    path, stop = sys.argv[1], Path(sys.argv[2])
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
                              "on_file": int(on_file), "fct_rows": rows}), flush=True)
        except Exception as e:  # every failure is recorded: the test expects none
            print(json.dumps({"error": f"{type(e).__name__}: {e}"}), flush=True)
        time.sleep(0.05)
""")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(landing: Path, warehouse: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", "--landing", str(landing), "--warehouse", str(warehouse),
         "--dashboards", str(warehouse.parent / "dashboards"), "--data-docs", str(warehouse.parent / "data_docs")],
        capture_output=True, text=True,
        env={**os.environ, settings.PSEUDONYM_KEY_ENV: "publish-test-key"},
    )


def test_a_reader_during_a_run_never_fails_nor_sees_a_half_built_state(tmp_path):
    landing, held_back = tmp_path / "landing", tmp_path / "held_back"
    shutil.copytree(HAND_LANDING, landing)
    for day in landing.glob(f"*/*/{LAST_DAY}"):  # the first run ends a day earlier
        target = held_back / day.relative_to(landing)
        target.parent.mkdir(parents=True, exist_ok=True)
        day.rename(target)
    warehouse = tmp_path / "warehouse.duckdb"
    first = _run(landing, warehouse)
    assert first.returncode == 0, first.stdout + first.stderr
    assert working_copy_path(warehouse).exists()

    for day in held_back.glob(f"*/*/{LAST_DAY}"):  # the last day's drops arrive
        target = landing / day.relative_to(held_back)
        target.parent.mkdir(parents=True, exist_ok=True)
        day.rename(target)
    stop = tmp_path / "stop"
    reader = subprocess.Popen([sys.executable, "-c", READER, str(warehouse), str(stop)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        second = _run(landing, warehouse)
        time.sleep(1.0)  # the reader goes on a moment on the published build
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=60)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "(published;" in second.stdout
    seen = [json.loads(line) for line in out.splitlines()]
    assert [s for s in seen if "error" in s] == [], err
    assert len(seen) > 20
    # every answer is one whole build: both marts agree on the date and the customers
    assert all(s["kpi_date"] == s["fct_date"] and s["on_file"] == s["fct_rows"] for s in seen)
    # the reader saw the old build during the run and the new one after the swap
    dates = [s["kpi_date"] for s in seen]
    assert dates[0] == "2024-07-30" and dates[-1] == LAST_DAY
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
    assert result.path == published and _sha256(published) == _sha256(working)
    assert not list(tmp_path.glob(".*partial"))
