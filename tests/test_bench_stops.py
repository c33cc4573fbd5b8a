"""`aftersales bench` stops at a run that fails: each case runs on the
warehouse the one before left, so after a failure the later figures would
measure something else (a 100-store full build that filled the disk once
went on to a reference comparison against a warehouse that did not exist,
and ended in a traceback). Here the full build fails for real: DuckDB is
given 1 MB of memory and nowhere to spill."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from orchestration import settings


def test_a_failed_full_build_stops_the_bench_and_says_why(tmp_path):
    env = {**os.environ, settings.MEMORY_LIMIT_ENV: "1MB", settings.SPILL_DIR_ENV: "/dev/null/spill"}
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "bench", "--stores", "1", "--years", "1",
         "--vehicles-per-store", "40", "--daily-days", "3", "--workdir", str(tmp_path)],
        cwd=settings.PROJECT_ROOT, env=env, capture_output=True, text=True,
    )

    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    report = json.loads(next(tmp_path.glob("s1-y1-v40-*/bench.json")).read_text())
    assert report["stopped_after"] == "full build"
    assert list(report["runs"]) == ["full build"]
    full = report["runs"]["full build"]
    assert full["exit_code"] != 0
    assert any("Out of Memory" in error for error in full["errors"]), full["errors"]
    # Nothing after it ran: no reference script, no comparison.
    assert report["reference"] == {} and report["reference_vs_mart"] == {}
    assert report["full_build_over_reference"] is None
    assert "full build failed (exit" in proc.stdout
    assert "STOPPED: the full build failed; the cases after it were not run" in proc.stdout
