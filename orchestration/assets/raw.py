"""Raw assets: landing files loaded into the warehouse's raw schema.

`landing/drops` is the landing itself, one daily partition per business
date: the schedule, the sensor, `aftersales run` and the UI's backfills
name the dates a run covers through it. The drop tables are loaded by one
multi-asset, not partitioned: a run for a date range discovers the drops of
every store in that range once and loads them in a few DuckDB scans.
Dagster records one event per partition of every partitioned asset in a
run, so only the one landing asset carries the partitions (a run over three
years records 1,100 events, not 15 times that). Unchanged files are skipped,
so re-running a day changes nothing. A file that cannot be read at all is
rejected, logged and fails the `files_accepted` check of its table, naming
the store and date, while every other file still loads. The
`rows_reconciled` check proves for every loaded file that no row was lost:
rows read, counted apart from the reader, = rows in raw + rows quarantined.
"""


import datetime as dt

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    BackfillPolicy,
    MaterializeResult,
    MetadataValue,
    asset,
    asset_check,
    multi_asset,
)

from orchestration.partitions import daily_drops, run_drop_dates
from orchestration.resources import LandingResource, WarehouseResource
from sources.contract import DROP_TABLES, STORES
from sources.landing import discover
from sources.loader import LoadResult, load_files, unreconciled_files

FILES_ACCEPTED = "files_accepted"
ROWS_RECONCILED = "rows_reconciled"
LOAD_LOG_KEY = AssetKey(["raw", "load_log"])
LANDING_DROPS_KEY = AssetKey(["landing", "drops"])


def raw_key(table_name: str) -> AssetKey:
    return AssetKey(["raw", table_name])


def _file_summary(result: LoadResult, table_name: str) -> dict:
    files = [f for f in result.files if f.file.table.name == table_name]
    return {
        "files_loaded": sum(1 for f in files if f.status == "loaded"),
        "files_unchanged": sum(1 for f in files if f.status == "unchanged"),
        "files_rejected": sum(1 for f in files if f.status == "rejected"),
        "rows_loaded": sum(f.rows_loaded for f in files),
        "rows_quarantined": sum(f.rows_quarantined for f in files),
    }


def _files_accepted(result: LoadResult, table_name: str) -> AssetCheckResult:
    rejected = [f for f in result.rejected if f.file.table.name == table_name]
    return AssetCheckResult(
        asset_key=raw_key(table_name),
        check_name=FILES_ACCEPTED,
        passed=not rejected,
        severity=AssetCheckSeverity.ERROR,
        description="Every landing file of this table could be read (SPEC section 4).",
        metadata={
            "rejected_files": len(rejected),
            "rejected": "\n".join(f.message for f in rejected[:50]) or "none",
            "failed_store_dates": ", ".join(
                sorted({f"{f.file.store_code} {f.file.drop_date}" for f in rejected if f.file.store_code})
            )
            or "none",
        },
    )


@asset(
    key=LANDING_DROPS_KEY,
    description="The landing's drops: one partition per business date, every store's files of every source "
    "delivered for it (SPEC section 3). Materializing dates loads their new or changed files.",
    group_name="raw",
    kinds={"csv"},
    partitions_def=daily_drops,
    backfill_policy=BackfillPolicy.single_run(),
)
def landing_drops(context: AssetExecutionContext, landing: LandingResource) -> MaterializeResult:
    window = context.partition_time_window
    files = discover(landing.root, date_from=window.start.date(), date_to=(window.end - dt.timedelta(days=1)).date(),
                     tables=DROP_TABLES)
    return MaterializeResult(metadata={
        "files": len(files),
        "stores": len({f.store_code for f in files}),
        "bytes": sum(f.path.stat().st_size for f in files),
    })


@multi_asset(
    name="raw_landing_drops",
    specs=[
        AssetSpec(
            raw_key(t.name),
            description=f"{t.description} Landing file {t.source}/<store>/<date>/{t.file_name}, every delivered version.",
            group_name="raw",
            kinds={"duckdb"},
            deps=[LANDING_DROPS_KEY],
        )
        for t in DROP_TABLES
    ]
    + [
        AssetSpec(
            LOAD_LOG_KEY,
            description="One row per landing file load: status, rows read, loaded and quarantined.",
            group_name="raw",
            kinds={"duckdb"},
            deps=[LANDING_DROPS_KEY],
        )
    ],
    check_specs=[AssetCheckSpec(FILES_ACCEPTED, asset=raw_key(t.name)) for t in DROP_TABLES],
)
def raw_landing_drops(context: AssetExecutionContext, warehouse: WarehouseResource, landing: LandingResource):
    # The dates of the run's landing partitions; a run of no partition loads every new drop.
    date_from, date_to = run_drop_dates(context.run.tags)
    files = discover(landing.root, date_from=date_from, date_to=date_to, tables=DROP_TABLES)
    context.log.info(f"{len(files)} landing files for drop dates {date_from or 'first'} .. {date_to or 'last'}")
    with warehouse.connect() as con:
        result = load_files(con, files)
    for table in DROP_TABLES:
        yield MaterializeResult(asset_key=raw_key(table.name), metadata=_file_summary(result, table.name))
        yield _files_accepted(result, table.name)
    yield MaterializeResult(
        asset_key=LOAD_LOG_KEY,
        metadata={
            "files_loaded": result.count("loaded"),
            "files_unchanged": result.count("unchanged"),
            "files_rejected": result.count("rejected"),
            "rows_loaded": result.rows_loaded,
            "rows_quarantined": result.rows_quarantined,
        },
    )


@asset(
    key=raw_key(STORES.name),
    description=f"{STORES.description} Landing file reference/{STORES.file_name}.",
    group_name="raw",
    kinds={"duckdb"},
    check_specs=[AssetCheckSpec(FILES_ACCEPTED, asset=raw_key(STORES.name))],
)
def raw_reference_stores(context: AssetExecutionContext, warehouse: WarehouseResource, landing: LandingResource):
    files = discover(landing.root, tables=(STORES,))
    if not files:
        raise FileNotFoundError(f"{landing.root}/reference/stores.csv is missing: the group's stores are unknown")
    with warehouse.connect() as con:
        result = load_files(con, files)
    yield MaterializeResult(metadata=_file_summary(result, STORES.name))
    yield _files_accepted(result, STORES.name)


def rows_reconciled_result(con, *, latest_load_only: bool = False) -> AssetCheckResult:
    """The `rows_reconciled` check on an open warehouse connection (SPEC section 4):
    every loaded file, or only the files of the latest load (the run's own: a
    daily run's check then costs what the day's files cost)."""
    since = None
    if latest_load_only:
        (since,) = con.execute("select max(loaded_at) from raw.load_log where status = 'loaded'").fetchone()
    checked, unreconciled = unreconciled_files(con, since)
    return AssetCheckResult(
        passed=not unreconciled,
        severity=AssetCheckSeverity.ERROR,
        description="For every loaded file: rows read = rows in its raw table + rows in raw.quarantine.",
        metadata={
            "files_checked": checked,
            "files_unreconciled": len(unreconciled),
            "unreconciled": MetadataValue.text("\n".join(u.describe() for u in unreconciled[:50]) or "none"),
        },
    )


@asset_check(
    asset=LOAD_LOG_KEY,
    name=ROWS_RECONCILED,
    additional_deps=[raw_key(STORES.name)],
    description="Every loaded file's rows read (counted apart from the CSV reader) equal its rows in raw "
    "plus its rows in raw.quarantine: no row lost nor doubled (SPEC section 4).",
)
def rows_reconciled(warehouse: WarehouseResource) -> AssetCheckResult:
    with warehouse.connect(read_only=True) as con:
        return rows_reconciled_result(con, latest_load_only=True)
