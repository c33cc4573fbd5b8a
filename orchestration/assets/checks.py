"""Great Expectations suites as Dagster asset checks.

One check per validated table (raw tables and marts), all run by one op after
the marts are built so Great Expectations is imported and its context made
once per run. A failed critical expectation is an ERROR, any other failure a
WARN; the failed expectations and their examples are in the metadata, and
Data Docs are written to the outputs folder.

The checks of the marts are *blocking*: when a critical expectation of a mart
fails, Dagster fails this step and does not run `warehouse/published`, so the
last good warehouse stays published (write-audit-publish: this op is the
audit). The results, counts and expectation names only, are written to
`ops.validation_results` in the working copy before the publish step copies
it, so the published warehouse carries the validation that let it through.
"""

import datetime as dt
from pathlib import Path

from dagster import (
    AssetCheckExecutionContext,
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetKey,
    MetadataValue,
    multi_asset_check,
)

from expectations.suites import SUITES
from orchestration.resources import OutputsResource, WarehouseResource

GX_CHECK = "gx_expectations"


def _asset_key(table: str) -> AssetKey:
    schema, name = table.split(".", 1)
    return AssetKey([schema, name])


@multi_asset_check(
    specs=[
        AssetCheckSpec(
            GX_CHECK,
            asset=_asset_key(table),
            description=f"Great Expectations suite of {table} ({len(checks)} expectations)"
            + ("; a critical failure blocks the publish." if table.startswith("marts.") else "."),
            # A raw table's downstream is the dbt build, which runs before this op: only marts can block.
            blocking=table.startswith("marts."),
        )
        for table, checks in SUITES.items()
    ],
)
def gx_expectations(context: AssetCheckExecutionContext, warehouse: WarehouseResource, outputs: OutputsResource):
    from expectations.runner import record_results, validate_all
    from orchestration.file_modes import owner_only

    validated_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None, microsecond=0)
    # After an incremental build only the rows it wrote are validated (the rest
    # passed before); after a full rebuild, whole tables.
    outcomes = validate_all(
        Path(warehouse.path), list(SUITES), docs_dir=Path(outputs.data_docs_dir), changed_only=True
    )
    with owner_only():  # its write-ahead log holds the working copy's rows
        record_results(warehouse.path, outcomes, validated_at)
    for outcome in outcomes:
        yield AssetCheckResult(
            asset_key=_asset_key(outcome.table),
            check_name=GX_CHECK,
            passed=outcome.success,
            severity=AssetCheckSeverity.ERROR if outcome.critical_failed else AssetCheckSeverity.WARN,
            metadata={
                "expectations_evaluated": outcome.evaluated,
                "expectations_failed": len(outcome.failed),
                "failed_expectations": ", ".join(
                    f"{f.name}{' (critical)' if f.critical else ''}" for f in outcome.failed
                ) or "none",
                "rows": outcome.row_count if outcome.row_count is not None else -1,
                "seconds": round(outcome.duration_s, 2),
                "summary": MetadataValue.text(outcome.summary()),
                "data_docs": str(outcome.docs_index or ""),
            },
        )
