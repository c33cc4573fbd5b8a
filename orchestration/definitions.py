"""The one Dagster code location of aftersales-warehouse (`dagster dev`)."""

from __future__ import annotations

from dagster import Definitions, in_process_executor

from orchestration.assets.checks import gx_expectations
from orchestration.assets.dashboards import dashboard_pages
from orchestration.assets.dbt import warehouse_dbt_models
from orchestration.assets.postgres import postgres_warehouse
from orchestration.assets.freshness import drops_on_time
from orchestration.assets.publish import published_warehouse
from orchestration.assets.raw import landing_drops, raw_landing_drops, raw_reference_stores, rows_reconciled
from orchestration.resources import default_resources
from orchestration.schedules import daily_job, daily_schedule
from orchestration.sensors import new_drops_sensor

defs = Definitions(
    assets=[landing_drops, raw_landing_drops, raw_reference_stores, warehouse_dbt_models, published_warehouse, postgres_warehouse,
            dashboard_pages],
    asset_checks=[gx_expectations, drops_on_time, rows_reconciled],
    jobs=[daily_job],
    schedules=[daily_schedule],
    sensors=[new_drops_sensor],
    resources=default_resources(),
    # DuckDB allows one writing process: steps run one after another in one
    # process, never in parallel subprocesses.
    executor=in_process_executor,
)
