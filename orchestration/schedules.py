"""The daily job and its schedule."""

from __future__ import annotations

from dagster import AssetSelection, build_schedule_from_partitioned_job, define_asset_job

from orchestration.partitions import daily_drops

# Everything: the day's drops, the reference file, the dbt models and their
# tests, the Great Expectations checks and the dashboards.
daily_job = define_asset_job(
    "daily_warehouse_job",
    selection=AssetSelection.all(),
    partitions_def=daily_drops,
    description="Load one business date's drops of every store, rebuild the marts, validate, render dashboards.",
)

# Stores export the day's deltas overnight; run for yesterday's date at 06:00
# Beijing time.
daily_schedule = build_schedule_from_partitioned_job(daily_job, hour_of_day=6, minute_of_hour=0)
