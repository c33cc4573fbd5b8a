"""The dbt models as Dagster assets; dbt tests surface as asset checks."""


import importlib
import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dagster import AssetExecutionContext, AssetKey
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration import publish_base, settings
from orchestration.build_code import built_by_other_code
from orchestration.dbt_project import dbt_project
from orchestration.file_modes import owner_only
from orchestration.resources import LandingResource, WarehouseResource

# The run tag that makes the dbt step rebuild every model (`aftersales run --full-refresh`).
FULL_REFRESH_TAG = "aftersales/full_refresh"


class WarehouseTranslator(DagsterDbtTranslator):
    """Models are keyed by schema and name (marts/kpi_store_month); sources
    point at the raw assets that load them (raw/dms_repair_orders)."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            return AssetKey(["raw", dbt_resource_props["identifier"]])
        schema = dbt_resource_props.get("config", {}).get("schema") or dbt_resource_props["schema"]
        return AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return dbt_resource_props.get("config", {}).get("schema") or "dbt"


@dbt_assets(manifest=dbt_project.manifest_path, dagster_dbt_translator=WarehouseTranslator())
def warehouse_dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, landing: LandingResource, warehouse: WarehouseResource
):
    # The pseudonyms need the group's own key outside the demo (SPEC section 9):
    # refuse to build with the public demo key on real data.
    os.environ[settings.PSEUDONYM_KEY_ENV] = settings.pseudonym_key(Path(landing.root))
    # dbt builds in the working copy; the published file changes only when the
    # publish step swaps a checked build in (the profile reads this var first).
    warehouse.ensure_working_copy()
    settings.export_duckdb_resources(Path(warehouse.path))
    # code_version: the incremental models recompute everything when the
    # project's code changed since the last build (int_build_window).
    code_version = settings.dbt_code_version()
    dbt_vars = json.dumps({"warehouse_path": warehouse.path, "code_version": code_version})
    args = ["build", "--exclude-resource-type", "unit_test", "--vars", dbt_vars]
    # The customer-month models are incremental: a build recomputes what the
    # new drops can change (docs/decisions.md, "Incremental builds"); a run
    # tagged full refresh, or the first build of changed code, rebuilds every
    # model from the whole raw layer.
    if context.run.tags.get(FULL_REFRESH_TAG) == "true" or built_by_other_code(Path(warehouse.path), code_version):
        args.append("--full-refresh")
    else:
        # A build by changed rows is published into a copy of the published
        # file: made now, it costs disk time while dbt uses the processors.
        publish_base.start(Path(warehouse.published_path))
    # Unit tests check the logic, not the data: they run in CI (tests/test_dbt_project.py).
    # One target folder per warehouse, kept between runs: dbt's partial parsing
    # then skips the full parse (seconds) while the code and vars stay the same.
    target_path = Path(warehouse.path).parent / "dbt_target"
    if settings.engine() == "spark":
        _import_great_expectations_meanwhile()
        yield from _build_on_spark(context, args, Path(warehouse.path), target_path)
        return
    # dbt's DuckDB write-ahead log and spill files hold raw rows: owner-only, as the working copy.
    with owner_only():
        invocation = dbt.cli(args, context=context, target_path=target_path)
        # Once dbt runs: the import holds this process's interpreter for
        # seconds, and started before, it held up dbt's start as long.
        _import_great_expectations_meanwhile()
        yield from invocation.stream()


def _import_great_expectations_meanwhile() -> None:
    """Import Great Expectations, which the checks step after this one needs,
    in a background thread: its import takes seconds (7.5 s of a 20-store
    day's 150 s) and this process mostly waits while dbt builds in its own."""
    threading.Thread(target=importlib.import_module, args=("great_expectations",),
                     name="import-great-expectations", daemon=True).start()


def _build_on_spark(context: AssetExecutionContext, args: list[str], working: Path, target_path: Path):
    """The same dbt build on the `spark` target, over the raw layer mirrored
    to Parquet; then what the later steps read is copied back into the
    working copy (orchestration/spark/step.py)."""
    from orchestration.spark import step

    paths = step.spark_paths(working)
    # The mirror and Spark's tables hold raw rows, as the working copy does.
    with owner_only():
        context.log.info(step.mirror_raw(working, paths))
        yield from step.dbt_cli().cli(args, context=context, target_path=target_path).stream()
        rows, seconds = step.copy_to_working_copy(
            working, paths, step.relations_read_after_dbt(dbt_project.manifest_path))
    context.log.info(f"copied {rows:,} rows of Spark's analyst relations and build record into {working} "
                     f"in {seconds:.1f} s")
