"""`make bench` / `aftersales bench`: the wall time and peak memory of
`aftersales run` at a scale given on the command line, and rows loaded per
second. A baseline to compare changes against, printed, never asserted.

Three runs are measured, each in a fresh child process so its peak memory is
its own: the full load of every drop but the last day, the daily run that
adds the last day, and a re-run that finds nothing new.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

CHILD = """
import json, resource, sys
from pathlib import Path
from orchestration.pipeline import run_pipeline
from orchestration.run_output import quiet_run_output
landing, warehouse, out = map(Path, sys.argv[1:4])
with quiet_run_output(warehouse, verbose=False):
    s = run_pipeline(landing=landing, warehouse=warehouse, dashboards_dir=out / "dashboards",
                     data_docs_dir=out / "data_docs")
print(json.dumps({"rows_loaded": s.rows_loaded, "files_loaded": s.files_loaded, "exit_code": s.exit_code,
                  "steps": s.step_seconds, "errors": s.errors, "failed_checks": s.failed_checks,
                  # Largest resident set of this process or of a dbt subprocess it ran, KiB.
                  "peak_kib": max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                                  resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)}))
"""


def _measure(landing: Path, warehouse: Path, out: Path) -> dict:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(landing), str(warehouse), str(out)],
        capture_output=True,
        text=True,
    )
    wall = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"bench run failed:\n{proc.stderr[-4000:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    report.update(wall_seconds=wall, peak_rss_mib=report["peak_kib"] / 1024)
    return report


def run_bench(args: argparse.Namespace) -> int:
    from sources.demo import generate_landing
    from sources.landing import drop_dates

    workdir = Path(args.workdir).resolve() / f"s{args.stores}-y{args.years}-v{args.vehicles_per_store}-seed{args.seed}"
    full = workdir / "landing_full"
    if not full.exists():
        t = time.monotonic()
        generate_landing(full, seed=args.seed, stores=args.stores, years=args.years,
                         vehicles_per_store=args.vehicles_per_store)
        print(f"generated landing {full} in {time.monotonic() - t:.1f} s")
    last_day = drop_dates(full)[-1].isoformat()
    # The landing as it stood the day before: every drop but the last day's.
    before = workdir / "landing_running"
    shutil.rmtree(before, ignore_errors=True)
    shutil.copytree(full, before, ignore=lambda d, names: [n for n in names if n == last_day])
    warehouse = workdir / "warehouse.duckdb"
    from orchestration.publish import working_copy_path

    for stale in (warehouse, working_copy_path(warehouse)):  # the full load starts from nothing
        stale.unlink(missing_ok=True)
    size_mib = sum(p.stat().st_size for p in full.rglob("*.csv")) / 2**20
    files = sum(1 for _ in full.rglob("*.csv"))
    print(f"scale: {args.stores} stores x {args.years} years x {args.vehicles_per_store} vehicles/store; "
          f"{files} files, {size_mib:.0f} MiB")

    initial = _measure(before, warehouse, workdir)
    shutil.copytree(full, before, dirs_exist_ok=True)  # the last day's drops arrive
    daily = _measure(before, warehouse, workdir)
    rerun = _measure(before, warehouse, workdir)

    def line(name: str, r: dict) -> str:
        load = r["steps"].get("raw_landing_drops", 0.0)
        rate = r["rows_loaded"] / load if load else 0.0
        dbt = r["steps"].get("warehouse_dbt_models", 0.0)
        pages = r["steps"].get("dashboards__pages", 0.0)
        return (f"{name:<22} wall {r['wall_seconds']:7.1f} s  peak RSS {r['peak_rss_mib']:7.0f} MiB  "
                f"rows loaded {r['rows_loaded']:>9}  load {load:6.1f} s ({rate:,.0f} rows/s)  dbt {dbt:6.1f} s  "
                f"pages {pages:5.1f} s")

    print(line("full history load", initial))
    print(line("daily run (one day)", daily))
    print(line("re-run (nothing new)", rerun))
    print("(peak RSS: the largest single process of that run, the run itself or its dbt subprocess)")
    return 0 if all(r["exit_code"] == 0 for r in (initial, daily, rerun)) else 1
