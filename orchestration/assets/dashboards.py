"""The static dashboards, rendered from the marts."""


from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from orchestration.assets.publish import PUBLISHED_KEY
from orchestration.resources import OutputsResource, WarehouseResource


@asset(
    key=AssetKey(["dashboards", "pages"]),
    # The pages show what analysts see: the published warehouse.
    deps=[PUBLISHED_KEY],
    group_name="dashboards",
    kinds={"html"},
    description="Group overview and one page per store: static HTML that works with no network.",
)
def dashboard_pages(context: AssetExecutionContext, warehouse: WarehouseResource, outputs: OutputsResource):
    from dashboards.render import render_dashboards

    result = render_dashboards(Path(warehouse.published_path), Path(outputs.dashboards_dir))
    return MaterializeResult(
        metadata={
            "index_page": str(result.index_page),
            "store_pages": len(result.store_pages),
        }
    )
