"""The daily job and its schedule."""

from __future__ import annotations

import datetime as dt

from dagster import AssetSelection, RunRequest, ScheduleEvaluationContext, define_asset_job, schedule

# Everything: the day's drops, the reference file, the dbt models and their
# tests, the Great Expectations checks and the dashboards.
daily_job = define_asset_job(
    "daily_warehouse_job",
    selection=AssetSelection.all(),
    description="Load one business date's drops of every store, rebuild the marts, validate, render dashboards.",
)


@schedule(
    name="daily_warehouse_job_schedule",
    job=daily_job,
    cron_schedule="0 6 * * *",
    execution_timezone="Asia/Shanghai",
    description="At 06:00 Beijing time, after the stores' overnight exports: yesterday's drops.",
)
def daily_schedule(context: ScheduleEvaluationContext) -> RunRequest:
    day = (context.scheduled_execution_time - dt.timedelta(days=1)).strftime("%Y-%m-%d")
    return RunRequest(run_key=day, partition_key=day)
