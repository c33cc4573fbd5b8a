"""The publish step of write-audit-publish (orchestration/publish.py): after
dbt has built every mart in the working copy and the blocking Great
Expectations checks of the marts (orchestration/assets/checks.py, the audit)
have passed, write the analyst relations of the build into a new file and
swap it in for the file analysts read. When a critical
check fails, Dagster does not run this step: the last good warehouse stays
published, and the dashboards, downstream, keep theirs too."""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from orchestration.assets.dbt import warehouse_dbt_models
from orchestration.resources import WarehouseResource

PUBLISHED_KEY = AssetKey(["warehouse", "published"])
MART_KEYS = sorted((key for key in warehouse_dbt_models.keys if key.path[0] == "marts"), key=lambda k: k.path)


@asset(
    key=PUBLISHED_KEY,
    deps=MART_KEYS,
    group_name="publish",
    kinds={"duckdb"},
    description="The warehouse file analysts read: the analyst relations of the working copy (marts, ops, "
    "seeds; never raw, staging or intermediate), swapped in atomically once its marts pass the critical Great "
    "Expectations checks (blocking asset checks: this step does not run otherwise).",
)
def published_warehouse(context: AssetExecutionContext, warehouse: WarehouseResource):
    from orchestration.file_modes import owner_only
    from orchestration.publish import publish, record_build, rows_changed_since_published

    working, published = Path(warehouse.path), Path(warehouse.published_path)
    # After an incremental build on top of the published one, only the rows it
    # wrote are replaced in the large marts; otherwise every relation is written.
    rows_changed = rows_changed_since_published(working, published)
    with owner_only():
        record_build(working)
    # The marts were audited by the blocking gx_expectations checks, upstream of this step.
    result = publish(working, published, audit_first=False, rows_changed=rows_changed)
    return MaterializeResult(
        metadata={
            "path": str(result.path),
            "bytes": result.bytes,
            "relations": result.relations,
            "relations_updated_in_part": len(rows_changed),
            "published_at": MetadataValue.text(result.published_at.isoformat(timespec="seconds")),
            "started_from": result.base,
            **{f"{part}_seconds": seconds for part, seconds in result.seconds.items()},
        }
    )
