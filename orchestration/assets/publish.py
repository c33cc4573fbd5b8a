"""The publish step of write-audit-publish (orchestration/publish.py): after
dbt has built every mart in the working copy, audit them with the critical
Great Expectations checks and swap the build in for the file analysts read.
A failed audit fails this step, says which checks failed, and leaves the last
good warehouse published; the dashboards, downstream, then keep theirs too."""

from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, Failure, MaterializeResult, MetadataValue, asset

from orchestration.assets.dbt import warehouse_dbt_models
from orchestration.resources import WarehouseResource

PUBLISHED_KEY = AssetKey(["warehouse", "published"])
MART_KEYS = sorted((key for key in warehouse_dbt_models.keys if key.path[0] == "marts"), key=lambda k: k.path)


@asset(
    key=PUBLISHED_KEY,
    deps=MART_KEYS,
    group_name="publish",
    kinds={"duckdb"},
    description="The warehouse file analysts read: the working copy, swapped in atomically once its marts "
    "pass the critical Great Expectations checks.",
)
def published_warehouse(context: AssetExecutionContext, warehouse: WarehouseResource):
    from orchestration.publish import NotPublished, publish

    try:
        result = publish(Path(warehouse.path), Path(warehouse.published_path))
    except NotPublished as e:
        raise Failure(description=str(e)) from e
    return MaterializeResult(
        metadata={
            "path": str(result.path),
            "bytes": result.bytes,
            "published_at": MetadataValue.text(result.published_at.isoformat(timespec="seconds")),
        }
    )
