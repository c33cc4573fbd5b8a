"""`aftersales bench --save-day-state` keeps the state the full build left,
and `--replay-day` measures the one-day run again from it: the same drops
arrive on the same warehouse, so the replay loads what the bench's own day
loaded, and its kpi_store_month agrees with the reference script over the
same landing."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from orchestration import settings

BENCH = [sys.executable, "-m", "orchestration.cli", "bench", "--stores", "1", "--years", "1",
         "--vehicles-per-store", "150", "--daily-days", "3"]


def test_a_replayed_day_loads_what_the_benchs_day_loaded(tmp_path):
    for extra in (["--save-day-state"], ["--replay-day"]):
        proc = subprocess.run([*BENCH, *extra, "--workdir", str(tmp_path)], cwd=settings.PROJECT_ROOT,
                              capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    workdir = next(tmp_path.glob("s1-y1-v150-*"))
    day = json.loads((workdir / "bench.json").read_text())["runs"]["one day"]
    report = json.loads((workdir / "bench_replay.json").read_text())
    replayed = report["runs"]["one day (replayed)"]

    # Nothing of the bench's later runs (the late drop, the no-change run) is left:
    # the replay loads the last day's files again, no more and no fewer.
    assert day["files_loaded"] > 0
    assert (replayed["files_loaded"], replayed["rows_loaded"]) == (day["files_loaded"], day["rows_loaded"])
    assert replayed["exit_code"] == 0 and "warehouse_dbt_models" in replayed["steps"]
    compared = report["reference_vs_mart"]["one day"]
    assert compared["cells"] > 0 and compared["disagreeing_cells"] == 0, compared
    assert (workdir / "before_one_day" / "warehouse.work.duckdb").is_file()


def test_the_bench_measures_each_runs_cpu_time(tmp_path):
    """Each run's and the reference's CPU seconds are its own (read before
    and after the child, not the bench's running total): more than none,
    and no more than every core busy for its whole wall time."""
    proc = subprocess.run([*BENCH, "--workdir", str(tmp_path)], cwd=settings.PROJECT_ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(next(tmp_path.glob("s1-y1-v150-*/bench.json")).read_text())
    measured = [*report["runs"].values(), *report["reference"].values()]
    assert len(measured) == 6
    for figures in measured:
        assert 0 < figures["cpu_seconds"] <= figures["wall_seconds"] * os.cpu_count(), figures
    assert "cores)" in proc.stdout
