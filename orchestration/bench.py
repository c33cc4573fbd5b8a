"""`aftersales bench`: what `aftersales run` costs at a scale given on the
command line, against one hand-written DuckDB SQL script doing the
kpi_store_month part of the work (orchestration/bench_reference.py).
Printed and written as JSON, never asserted.

The landing is a demo landing (sources/demo.py): each store's history
extract, then daily drops; generated once per parameter set and kept under
the workdir. Four runs are measured, each in a fresh child process so its peak
memory is its own:

  full build   from an empty warehouse, every drop but the last day's (one
               store's drop of a mid-window day held back)
  one day      the last day's drops arrive
  late drop    the held-back drop arrives late, and an earlier daily drop is
               re-delivered with one repair order's amount corrected
  no change    a re-run that finds nothing new

With a PostgreSQL server (orchestration/bench_postgres.py) every run also
publishes to it, and its postgres step reports the rows it sent. With
`--engine spark` the runs build on Spark (local mode) over the same landing;
their warehouse, Spark's tables and the raw mirror go to `spark/` in the
workdir, so both engines' figures sit side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from orchestration import bench_day_state, bench_landing, bench_postgres, bench_reference, settings
from orchestration.bench_report import children_cpu_seconds, machine, write_report
from orchestration.progress import LiveProgress

# About 18,000 repair orders per store and year (SPEC section 11: 5.5M at
# 100 stores x 3 years): measured 17,896 with one store over 3 years.
DEFAULT_VEHICLES_PER_STORE = 9300

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
                  "rejected": s.rejected, "postgres": s.postgres_publish or None,
                  "validation_seconds": s.validation_seconds, "publish_seconds": s.publish_seconds,
                  "published_from": s.published_from,
                  # Largest resident set of this process and of the dbt subprocesses it ran, KiB.
                  "peak_kib": {"job": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                               "dbt": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}}))
"""


def _measure(landing: Path, warehouse: Path, out: Path, postgres_dsn: str, engine: str) -> dict:
    root = Path(__file__).resolve().parents[1]
    started, cpu_before = time.monotonic(), children_cpu_seconds()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(landing), str(warehouse), str(out)],
        capture_output=True, text=True, cwd=root,
        # The DSN in the environment, not on a command line others can read; '' publishes nowhere.
        env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])),
             settings.POSTGRES_DSN_ENV: postgres_dsn, settings.ENGINE_ENV: engine},
    )
    wall, cpu = time.monotonic() - started, children_cpu_seconds() - cpu_before
    if proc.returncode != 0:
        raise SystemExit(f"bench run failed:\n{proc.stderr[-4000:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    # A skipped run (nothing new) ran no dbt: the run_results.json there is the previous run's.
    ran_dbt = any(step.startswith("warehouse_dbt_models") for step in report["steps"])
    peaks = report.pop("peak_kib")
    report.update(wall_seconds=wall, cpu_seconds=cpu, peak_rss_mib=max(peaks.values()) / 1024,
                  peak_rss_by_process_mib={name: kib / 1024 for name, kib in peaks.items()},
                  slowest_models=_slowest_models(warehouse.parent / "dbt_target" / "run_results.json")
                  if ran_dbt else [])
    return report


def _slowest_models(run_results: Path) -> list[list]:
    """The run's dbt models (and tests), slowest first: [name, seconds], where
    a daily run's time goes (the table shows the first few, the JSON all).
    dbt writes run_results.json per invocation."""
    try:
        results = json.loads(run_results.read_text(encoding="utf-8"))["results"]
    except (OSError, ValueError, KeyError):
        return []
    timed = sorted(((r["unique_id"].split(".", 2)[-1], round(r["execution_time"], 1)) for r in results),
                   key=lambda item: -item[1])
    return [list(item) for item in timed]


def run_bench(args: argparse.Namespace) -> int:
    params = {"stores": args.stores, "years": args.years, "vehicles_per_store": args.vehicles_per_store,
              "seed": args.seed, "daily_days": args.daily_days}
    workdir = Path(args.workdir).resolve() / "s{stores}-y{years}-v{vehicles_per_store}-seed{seed}-d{daily_days}".format(
        **params)
    with bench_postgres.bench_server(args) as postgres_dsn, LiveProgress(sys.stdout) as progress:
        report = _measure_runs(args, params, workdir, postgres_dsn, progress)
    write_report(report, _runs_dir(workdir, args.engine) / ("bench_replay.json" if args.replay_day else "bench.json"))
    return 0 if all(r["exit_code"] == 0 for r in report["runs"].values()) else 1


def _runs_dir(workdir: Path, engine: str) -> Path:
    """Where an engine's warehouse and figures go: the workdir for DuckDB, a folder of its own for another."""
    return workdir if engine == settings.ENGINES[0] else workdir / engine


def _measure_runs(args: argparse.Namespace, params: dict, workdir: Path, postgres_dsn: str,
                  progress: LiveProgress) -> dict:
    """The landing, then the four runs and the two references; the report's figures."""
    from orchestration.publish import working_copy_path
    from orchestration.spark.step import spark_paths

    landing = bench_landing.cached_landing(workdir, params, progress)
    plan = bench_landing.plan(landing.path)
    running = workdir / "landing_running"
    warehouse = _runs_dir(workdir, args.engine) / "warehouse.duckdb"
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    if args.replay_day:
        return _replay_day(args, params, landing, plan, running, warehouse, postgres_dsn, progress)
    # The full build starts from nothing: no warehouse, no Spark tables nor raw mirror.
    for stale in (warehouse, working_copy_path(warehouse)):
        stale.unlink(missing_ok=True)
    if args.engine == "spark":
        for folder in spark_paths(working_copy_path(warehouse)).folders():
            shutil.rmtree(folder, ignore_errors=True)
    if postgres_dsn:
        bench_postgres.empty_server(postgres_dsn)  # and so does the server's publish
    progress.print(f"engine: {args.engine}; scale: {args.stores} stores x {args.years} years x "
                   f"{args.vehicles_per_store} vehicles/store; {landing.files} files, {landing.mib:.0f} MiB, {landing.rows['dms_repair_orders']:,} "
                   "repair-order rows")

    runs: dict[str, dict] = {}
    comparisons: dict[str, dict] = {}
    references: dict[str, dict] = {}

    def step(name: str, what: str) -> None:
        progress.print(f"[{time.strftime('%H:%M:%S')}] {name}: {what}")
        progress.phase(f"{name}: {what}")

    def measured(name: str) -> None:
        """`aftersales run` in a child process; what it did, on a terminal."""
        run = runs[name] = _measure(running, warehouse, warehouse.parent, postgres_dsn, args.engine)
        sent = ""
        if postgres_dsn and warehouse.exists():
            run["postgres_held"] = bench_postgres.held_vs_published(postgres_dsn, warehouse)
            if run["postgres"]:
                sent = f", {run['postgres']['rows_copied']:,} rows sent to PostgreSQL"
        progress.done(f"  {name}: {run['files_loaded']:,} files, {run['rows_loaded']:,} rows loaded{sent}, "
                      f"peak {run['peak_rss_mib']:,.0f} MiB")

    def referenced(key: str, label: str) -> None:
        references[key] = bench_reference.measure_reference(running, workdir, label)
        progress.done("  reference: the SQL script")

    def report(corrected: str = "-", stopped_after: str | None = None) -> dict:
        return {
            "engine": args.engine,
            "parameters": params,
            "machine": machine(),
            "postgres": _server_description(args, postgres_dsn),
            "landing": landing.describe(),
            "cases": {"held_back": plan.held_back_label, "corrected": corrected, "last_day": plan.last_day},
            "runs": runs,
            "reference": references,
            "reference_vs_mart": comparisons,
            "full_build_over_reference": (runs["full build"]["wall_seconds"] / references["full build"]["wall_seconds"]
                                          if "full build" in references else None),
            "stopped_after": stopped_after,
        }

    def failed(name: str) -> bool:
        """Each case runs on the warehouse the one before left: after a
        failed run the later figures would measure something else."""
        if runs[name]["exit_code"] == 0:
            return False
        progress.print(f"{name} failed (exit {runs[name]['exit_code']}): the bench stops here")
        return True

    bench_landing.stage_before_last_day(landing.path, running, plan)
    step("full build", f"every drop up to {plan.before_last_day} (held back: {plan.held_back_label})")
    measured("full build")
    if failed("full build"):
        return report(stopped_after="full build")
    step("reference", "the SQL script over the same drops")
    referenced("full build", "reference_full_build")
    comparisons["full build"] = bench_reference.disagreements(Path(references["full build"]["result"]), warehouse)
    if args.save_day_state:
        step("saving", "the state before the one-day run (--replay-day)")
        progress.done(f"  saved in {bench_day_state.save(warehouse.parent)}")

    bench_landing.deliver_last_day(landing.path, running, plan)
    step("one day", f"the drops of {plan.last_day}")
    measured("one day")
    if failed("one day"):
        return report(stopped_after="one day")

    corrected = bench_landing.deliver_late_and_corrected(landing.path, running, plan)
    step("late drop", f"{plan.held_back_label} late; {corrected}")
    measured("late drop")
    if failed("late drop"):
        return report(corrected, stopped_after="late drop")

    step("no change", "the same landing again")
    measured("no change")
    step("reference", "the SQL script over the final landing")
    referenced("final", "reference_final")
    comparisons["final"] = bench_reference.disagreements(Path(references["final"]["result"]), warehouse)
    return report(corrected)


def _replay_day(args: argparse.Namespace, params: dict, landing: bench_landing.BenchLanding,
                plan: bench_landing.Plan, running: Path, warehouse: Path, postgres_dsn: str,
                progress: LiveProgress) -> dict:
    """The one-day run again, from the state --save-day-state kept, and the
    reference over the same landing."""
    if postgres_dsn:
        raise SystemExit("--replay-day restores no PostgreSQL server: replay without one")
    progress.print(f"[{time.strftime('%H:%M:%S')}] restoring the state before the one-day run")
    bench_day_state.restore(warehouse.parent)
    bench_landing.stage_before_last_day(landing.path, running, plan)
    bench_landing.deliver_last_day(landing.path, running, plan)
    progress.print(f"[{time.strftime('%H:%M:%S')}] one day (replayed): the drops of {plan.last_day}")
    run = _measure(running, warehouse, warehouse.parent, postgres_dsn, args.engine)
    progress.done(f"  one day: {run['files_loaded']:,} files, {run['rows_loaded']:,} rows loaded, "
                  f"peak {run['peak_rss_mib']:,.0f} MiB")
    reference = bench_reference.measure_reference(running, warehouse.parent, "reference_one_day")
    return {
        "engine": args.engine, "parameters": params, "machine": machine(), "postgres": None,
        "landing": landing.describe(),
        "cases": {"held_back": plan.held_back_label, "corrected": "-", "last_day": plan.last_day},
        "runs": {"one day (replayed)": run},
        "reference": {"one day": reference},
        "reference_vs_mart": {"one day": bench_reference.disagreements(Path(reference["result"]), warehouse)},
        "full_build_over_reference": None,
        "stopped_after": None if run["exit_code"] == 0 else "one day (replayed)",
    }


def _server_description(args: argparse.Namespace, dsn: str) -> str | None:
    """The server the runs published to, and its version; None without one."""
    if not dsn:
        return None
    import psycopg

    from orchestration.postgres.publish import server_address

    with psycopg.connect(dsn) as conn:
        version = conn.execute("show server_version").fetchone()[0]
    where = "a throwaway local server" if args.throwaway_postgres else server_address(dsn)
    return f"{where}, PostgreSQL {version}"


def add_arguments(parser: argparse.ArgumentParser, default_workdir: Path) -> None:
    from sources.demo import DEFAULT_DAILY_DAYS

    parser.add_argument("--stores", type=int, default=5, help="stores in the group (default 5)")
    parser.add_argument("--years", type=int, default=3, help="years of history (default 3)")
    parser.add_argument("--vehicles-per-store", type=int, default=DEFAULT_VEHICLES_PER_STORE,
                        help=f"vehicles per store (default {DEFAULT_VEHICLES_PER_STORE}: about 18,000 repair orders "
                             "per store and year, the SPEC's size)")
    parser.add_argument("--daily-days", type=int, default=DEFAULT_DAILY_DAYS,
                        help=f"daily drops after each store's history extract (default {DEFAULT_DAILY_DAYS})")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--engine", choices=settings.ENGINES, default=settings.ENGINES[0],
                        help="the engine dbt builds on (default duckdb; spark: local mode, docs/spark.md)")
    server = parser.add_mutually_exclusive_group()
    server.add_argument("--postgres", metavar="DSN",
                        help="every run also publishes to this PostgreSQL server, emptied first: its published "
                             "relations are replaced by the bench's (a test server, never the group's)")
    server.add_argument("--throwaway-postgres", action="store_true",
                        help="start a local PostgreSQL server for the bench (Debian's binaries, `make postgres`), "
                             "publish every run to it, remove it after")
    replay = parser.add_mutually_exclusive_group()
    replay.add_argument("--save-day-state", action="store_true",
                        help="after the full build, copy the warehouse's state (about the size of the working "
                             "copy and the published file) for --replay-day")
    replay.add_argument("--replay-day", action="store_true",
                        help="measure only the one-day run, from the state --save-day-state kept (a change to "
                             "a day's cost, measured in minutes); figures go to bench_replay.json")
    parser.add_argument("--workdir", default=str(default_workdir),
                        help=f"where landings (kept per parameter set), warehouse and bench.json go "
                             f"(default {default_workdir})")
