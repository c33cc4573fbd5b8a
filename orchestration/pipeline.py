"""The whole daily job, in-process: what `aftersales run` and the end-to-end
tests call. It materializes every asset of the code location for the range
of drop dates present in the landing, in one Dagster run."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from orchestration import settings, unchanged_run
from orchestration.progress import LiveProgress
from sources.landing import LandingFile, discover


@dataclass
class RunSummary:
    landing: Path
    warehouse: Path
    dashboards_index: Path | None
    data_docs_dir: Path
    range_start: str  # the run covers the drop dates range_start .. range_end
    range_end: str
    success: bool
    seconds: float
    files_loaded: int = 0
    files_unchanged: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    rejected: list[str] = field(default_factory=list)  # messages naming file and problem
    failed_store_dates: list[str] = field(default_factory=list)
    failed_checks: list[str] = field(default_factory=list)  # ERROR severity: the run fails
    warned_checks: list[str] = field(default_factory=list)  # WARN severity: findings
    late_drops: list[str] = field(default_factory=list)  # store and source behind the data date
    published: bool = False  # the marts passed the blocking checks and the build was swapped in for analysts
    postgres_server: str | None = None  # host:port/dbname the published relations were sent to
    # The postgres step's figures (orchestration/assets/postgres.py's metadata): relations,
    # updated_in_place, rows_copied, rows_kept_server_side, seconds, copy_seconds, fingerprint_seconds,
    # delete_seconds, rows_per_second,
    # relations_by_changed_rows, sent_as (relation -> how it was sent).
    postgres_publish: dict[str, object] = field(default_factory=dict)
    working_copy: Path | None = None
    # Set when the run was skipped: nothing changed since this build, which is published (unchanged_run.py).
    unchanged_build: str | None = None
    errors: list[str] = field(default_factory=list)
    skipped_steps: list[str] = field(default_factory=list)  # never ran: a step they need failed or gave no output
    step_seconds: dict[str, float] = field(default_factory=dict)
    # Seconds each table's validation took (the gx check's metadata): where the checks' time goes.
    validation_seconds: dict[str, float] = field(default_factory=dict)
    # The publish's parts (orchestration/publish.py's Published.seconds) and what it started from.
    publish_seconds: dict[str, float] = field(default_factory=dict)
    published_from: str | None = None

    @property
    def exit_code(self) -> int:
        # Not published is a failure even when no step failed: analysts would
        # otherwise read yesterday's figures after a run that said OK.
        ok = self.success and self.published and not self.rejected and not self.failed_checks
        return 0 if ok else 1


def run_pipeline(
    *,
    landing: Path,
    warehouse: Path,
    dashboards_dir: Path | None = None,
    data_docs_dir: Path | None = None,
    full_refresh: bool = False,
    postgres_dsn: str | None = None,
    engine: str | None = None,
    progress: LiveProgress | None = None,
) -> RunSummary:
    """Run the job over the dates with new drops; `full_refresh` rebuilds
    every dbt model from the whole raw layer instead of what changed;
    `engine` (default AFTERSALES_ENGINE, else duckdb) is what the dbt models
    build on (docs/spark.md);
    `postgres_dsn` (default AFTERSALES_POSTGRES_DSN) names the server the
    published relations are sent to; `progress` shows the steps as they run
    (on a terminal)."""
    progress = progress or LiveProgress(enabled=False)
    landing = Path(landing).resolve()
    warehouse = Path(warehouse).resolve()
    dashboards_dir = Path(dashboards_dir or settings.dashboards_path()).resolve()
    data_docs_dir = Path(data_docs_dir or settings.data_docs_path()).resolve()
    # dbt runs in a subprocess and reads the warehouse path and the pseudonym
    # key from these variables; a missing key stops the run before it starts.
    os.environ[settings.PSEUDONYM_KEY_ENV] = settings.pseudonym_key(landing)
    os.environ[settings.WAREHOUSE_ENV] = str(warehouse)
    os.environ[settings.LANDING_ENV] = str(landing)
    os.environ[settings.ENGINE_ENV] = engine or settings.engine()
    warehouse.parent.mkdir(parents=True, exist_ok=True)

    # The job writes a working copy (every layer, owner-only) and publishes its
    # analyst relations when the marts pass the audit (orchestration/publish.py).
    from orchestration.resources import LandingResource, OutputsResource, PostgresResource, warehouse_resource

    warehouse_res = warehouse_resource(warehouse)
    working = Path(warehouse_res.path)
    postgres_dsn = postgres_dsn if postgres_dsn is not None else settings.postgres_dsn()
    progress.phase(f"finding new drops under {landing}")
    inputs = unchanged_run.run_inputs(
        pseudonym_key=os.environ[settings.PSEUDONYM_KEY_ENV], dashboards_dir=dashboards_dir,
        data_docs_dir=data_docs_dir, postgres_server=_server_address(postgres_dsn),
        engine=os.environ[settings.ENGINE_ENV])
    index = dashboards_dir / "index.html"
    # Listed once: the skip test, the summary and the run's dates read the same files.
    files = discover(landing)
    if not full_refresh:
        started = time.monotonic()
        build_id = unchanged_run.unchanged_build(files, working, warehouse, inputs, postgres_dsn,
                                                 index, data_docs_dir / "index.html")
        if build_id is not None:
            progress.done(f"  found   nothing new since build {build_id}: nothing to do")
            return _unchanged_summary(landing, files, warehouse, working, index, data_docs_dir, postgres_dsn,
                                      build_id, time.monotonic() - started)
    unchanged_run.forget(working)
    warehouse_res.ensure_working_copy()
    first, last = _partition_range(landing, files, working)
    progress.done(f"  found   new drops dated {first} .. {last}")

    progress.phase("loading the Dagster definitions and the dbt manifest")
    from dagster import DagsterInstance, Definitions, colored_console_logger, define_asset_job

    from orchestration.assets.dbt import FULL_REFRESH_TAG, warehouse_dbt_models
    from orchestration.definitions import defs
    from orchestration.partitions import RANGE_END_TAG, RANGE_START_TAG, daily_drops

    # The partitions were made when the definitions first loaded in this
    # process, from the landing of that moment (settings.first_drop_date).
    start = daily_drops.start.date().isoformat()
    if first < start:
        raise SystemExit(
            f"{landing} has drops from {first}, before the first partition {start} of this process: "
            f"run it in a new process, or set {settings.FIRST_DATE_ENV}={first}"
        )

    resources = dict(defs.resources)
    resources.update(
        warehouse=warehouse_res,
        landing=LandingResource(root=str(landing)),
        outputs=OutputsResource(dashboards_dir=str(dashboards_dir), data_docs_dir=str(data_docs_dir)),
        postgres=PostgresResource(dsn=postgres_dsn),
    )
    # What dagster.materialize does, with one more logger: the progress.
    assets = [*defs.assets, *defs.asset_checks]
    progress_logger = progress.dagster_logger(
        total_steps=len({a.node_def.name for a in assets}),  # one step per op, in process
        dbt_step=warehouse_dbt_models.op.name,
        dbt_nodes=len(warehouse_dbt_models.keys),
    )
    job = Definitions(
        assets=assets,
        jobs=[define_asset_job("aftersales_run")],
        resources=resources,
        loggers={"console": colored_console_logger, "progress": progress_logger},
    ).resolve_job_def("aftersales_run")
    progress.done("  loaded  the definitions")
    started = time.monotonic()
    with DagsterInstance.ephemeral() as instance:
        result = job.execute_in_process(
            instance=instance,
            tags={
                RANGE_START_TAG: first,
                RANGE_END_TAG: last,
                FULL_REFRESH_TAG: "true" if full_refresh else "false",
            },
            raise_on_error=False,
            # DEBUG would log every partition's materialization of a long range.
            run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}, "progress": {}}},
        )
        summary = RunSummary(
            landing=landing,
            warehouse=warehouse,
            dashboards_index=None,
            data_docs_dir=data_docs_dir,
            range_start=first,
            range_end=last,
            success=result.success,
            seconds=time.monotonic() - started,
        )
        _collect(result, summary)
    summary.dashboards_index = index if index.exists() else None
    summary.working_copy = working
    if summary.exit_code == 0 and summary.published and summary.dashboards_index and (
            summary.postgres_server or not postgres_dsn):
        unchanged_run.record(working, warehouse, inputs)
    return summary


def _server_address(dsn: str) -> str:
    if not dsn:
        return ""
    from orchestration.postgres.publish import server_address

    return server_address(dsn)


def _unchanged_summary(landing: Path, files: list[LandingFile], warehouse: Path, working: Path, index: Path,
                       data_docs_dir: Path, postgres_dsn: str, build_id: str, seconds: float) -> RunSummary:
    """A skipped run: the published build is current, nothing was done."""
    last = max(f.drop_date for f in files if f.drop_date).isoformat()
    return RunSummary(
        landing=landing, warehouse=warehouse, dashboards_index=index, data_docs_dir=data_docs_dir,
        range_start=last, range_end=last, success=True, seconds=seconds, files_unchanged=len(files),
        published=True, postgres_server=_server_address(postgres_dsn) or None, working_copy=working,
        unchanged_build=build_id,
    )


def _partition_range(landing: Path, files: list[LandingFile], warehouse: Path) -> tuple[str, str]:
    """The drop dates this run covers: from the first to the last date with a
    new or changed file. A run over a long range costs Dagster bookkeeping per
    partition, so a daily run covers only the days that changed; with no new
    file (but new code or settings, else the run is skipped) it covers the
    last day, which rebuilds, checks and renders as usual."""
    import duckdb

    from sources.loader import changed_drop_dates

    dates = sorted({f.drop_date for f in files if f.drop_date})
    if not dates:
        raise SystemExit(f"no drops under {landing}: expected <source>/<store_code>/<YYYY-MM-DD>/ folders (SPEC 3)")
    if warehouse.exists():
        with duckdb.connect(str(warehouse), read_only=True) as con:
            changed = changed_drop_dates(con, files)
    else:
        changed = dates
    changed = changed or dates[-1:]
    return changed[0].isoformat(), changed[-1].isoformat()


def _collect(result, summary: RunSummary) -> None:
    """Fill the summary from the run's events: load metadata, failed checks, step errors."""
    from dagster import AssetCheckSeverity

    from orchestration.assets.freshness import FRESHNESS_CHECK

    for event in result.all_events:
        if event.is_step_materialization:
            mat = event.event_specific_data.materialization
            key = "/".join(mat.asset_key.path)
            if key == "warehouse/published":
                summary.published = True
                md = {k: v.value for k, v in mat.metadata.items()}
                summary.published_from = md.get("started_from")
                summary.publish_seconds = {k.removesuffix("_seconds"): float(v) for k, v in md.items()
                                           if k.endswith("_seconds")}
            if key == "warehouse/postgres":
                summary.postgres_publish = {k: v.value for k, v in mat.metadata.items() if k != "server"}
                summary.postgres_server = str(mat.metadata["server"].value)
            if key in ("raw/load_log", "raw/reference_stores"):
                md = {k: v.value for k, v in mat.metadata.items()}
                summary.files_loaded += int(md.get("files_loaded", 0))
                summary.files_unchanged += int(md.get("files_unchanged", 0))
                summary.rows_loaded += int(md.get("rows_loaded", 0))
                summary.rows_quarantined += int(md.get("rows_quarantined", 0))
        elif event.event_type_value == "ASSET_CHECK_EVALUATION":
            evaluation = event.event_specific_data
            if "seconds" in evaluation.metadata:
                table = ".".join(evaluation.asset_key.path)
                summary.validation_seconds[table] = float(evaluation.metadata["seconds"].value)
            if not evaluation.passed:
                key = "/".join(evaluation.asset_key.path)
                failure = f"{key}: {evaluation.check_name}"
                md = {k: v.value for k, v in evaluation.metadata.items()}
                # A WARN check is a data-quality finding to read, not a failed run.
                if evaluation.severity == AssetCheckSeverity.WARN:
                    summary.warned_checks.append(failure)
                    if evaluation.check_name == FRESHNESS_CHECK:
                        summary.late_drops += [m for m in str(md.get("late", "")).splitlines() if m != "none"]
                    continue
                # Name what failed: the expectations of a suite, the files whose rows do not add up.
                if md.get("failed_expectations") not in (None, "", "none"):
                    failure += f" ({md['failed_expectations']})"
                if md.get("unreconciled") not in (None, "", "none"):
                    failure += " (" + "; ".join(str(md["unreconciled"]).splitlines()[:5]) + ")"
                summary.failed_checks.append(failure)
                if evaluation.check_name == "files_accepted":
                    summary.rejected += [m for m in str(md.get("rejected", "")).splitlines() if m and m != "none"]
                    summary.failed_store_dates += [
                        s.strip() for s in str(md.get("failed_store_dates", "")).split(",") if s.strip() not in ("", "none")
                    ]
        elif event.is_step_success:
            summary.step_seconds[event.step_key] = event.event_specific_data.duration_ms / 1000
        elif event.is_step_failure:
            error = event.event_specific_data.error
            # Dagster wraps what the step raised: name the step and the step's own error.
            while error is not None and error.cause is not None and "Error occurred while executing" in error.message:
                error = error.cause
            summary.errors.append(f"{event.step_key}: {error.message.strip() if error else 'failed'}")
    summary.failed_store_dates = sorted(set(summary.failed_store_dates))
    # Steps that never started: after a failed step, or one that gave no output.
    started = {event.step_key for event in result.all_events if event.is_step_start}
    summary.skipped_steps = [node.name for node in result.job_def.nodes_in_topological_order
                             if node.name not in started]
