"""The static dashboards, rendered from the marts."""


from pathlib import Path

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, asset

from orchestration.assets.publish import PUBLISHED_KEY
from orchestration.resources import OutputsResource, WarehouseResource

PANEL_CACHE_DIR = "dashboard_panels"


@asset(
    key=AssetKey(["dashboards", "pages"]),
    # The pages show what analysts see: the published warehouse.
    deps=[PUBLISHED_KEY],
    group_name="dashboards",
    kinds={"html"},
    description="Group overview, a page and a call list per store, and the data-quality page, in Chinese and "
    "English: static HTML that works with no network.",
)
def dashboard_pages(context: AssetExecutionContext, warehouse: WarehouseResource, outputs: OutputsResource):
    from dashboards.render import render_dashboards
    from orchestration.dbt_docs import DEFAULT_OUT_DIR as DBT_DOCS_DIR

    # The data-quality page links to the Data Docs the checks wrote in this
    # run and to the dbt docs site of `make docs` (when it has been built).
    result = render_dashboards(
        Path(warehouse.published_path),
        Path(outputs.dashboards_dir),
        data_docs_index=Path(outputs.data_docs_dir) / "index.html",
        dbt_docs_index=DBT_DOCS_DIR / "index.html",
        # Beside the working copy (data engineers only): a day renders the
        # month panels its data changed, not every store's whole history.
        panel_cache_dir=Path(warehouse.path).parent / PANEL_CACHE_DIR,
    )
    return MaterializeResult(
        metadata={
            "index_page": str(result.index_page),
            "store_pages": len(result.store_pages),
            "pages": len(result.pages),
            "call_list_pages": len(result.call_list_pages),
            "data_quality_page": str(result.data_quality_page),
            "month_panels_rendered": result.panels_rendered,
            "month_panels_reused": result.panels_reused,
        }
    )
