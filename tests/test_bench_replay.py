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
from pathlib import Path

import pytest

from orchestration import settings

BENCH = [sys.executable, "-m", "orchestration.cli", "bench", "--stores", "1", "--years", "1",
         "--vehicles-per-store", "150", "--daily-days", "3"]


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory) -> tuple[Path, str]:
    """One small bench that saves its day's state, shared by the tests (a
    bench with and without --save-day-state runs the same cases): its
    folder, and what it printed."""
    workdir = tmp_path_factory.mktemp("bench")
    proc = subprocess.run([*BENCH, "--save-day-state", "--workdir", str(workdir)], cwd=settings.PROJECT_ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return next(workdir.glob("s1-y1-v150-*")), proc.stdout


def test_a_replayed_day_loads_what_the_benchs_day_loaded(bench_run):
    workdir, _ = bench_run
    proc = subprocess.run([*BENCH, "--replay-day", "--workdir", str(workdir.parent)], cwd=settings.PROJECT_ROOT,
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
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


def test_the_bench_measures_each_runs_cpu_time(bench_run):
    """Each run's and the reference's CPU seconds are its own (read before
    and after the child, not the bench's running total): more than none,
    and no more than every core busy for its whole wall time."""
    workdir, printed = bench_run
    report = json.loads((workdir / "bench.json").read_text())
    measured = [*report["runs"].values(), *report["reference"].values()]
    assert len(measured) == 6
    for figures in measured:
        assert 0 < figures["cpu_seconds"] <= figures["wall_seconds"] * os.cpu_count(), figures
    assert "cores)" in printed
