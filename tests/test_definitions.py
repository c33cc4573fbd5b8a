"""The Dagster code location loads and holds the whole graph."""

from __future__ import annotations

from dagster import AssetKey

from orchestration.definitions import defs
from sources.contract import LANDING_TABLES


def test_definitions_hold_raw_dbt_and_dashboard_assets():
    graph = defs.resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    for table in LANDING_TABLES:
        assert AssetKey(["raw", table.name]) in keys
    for mart in ("kpi_store_month", "fct_customer_month", "dim_stores"):
        assert AssetKey(["marts", mart]) in keys
    assert AssetKey(["dashboards", "pages"]) in keys
    # dbt sources resolve to the raw assets that load them
    parents = graph.get(AssetKey(["staging", "stg_dms__repair_orders"])).parent_keys
    assert AssetKey(["raw", "dms_repair_orders"]) in parents
    # write-audit-publish: every mart feeds the publish step, the pages read what it published
    published = AssetKey(["warehouse", "published"])
    marts = {k for k in keys if k.path[0] == "marts"}
    assert len(marts) > 10 and marts <= graph.get(published).parent_keys
    assert graph.get(AssetKey(["dashboards", "pages"])).parent_keys == {published}
    # the server, when one is configured, gets what was published
    assert graph.get(AssetKey(["warehouse", "postgres"])).parent_keys == {published}


def test_checks_cover_files_dbt_tests_and_expectations():
    checks = {(k.asset_key.to_user_string(), k.name) for k in defs.resolve_asset_graph().asset_check_keys}
    assert ("raw/dms_repair_orders", "files_accepted") in checks
    assert any(asset == "marts/kpi_store_month" and "statuses_add_up" in name for asset, name in checks)
    assert any(asset == "marts/kpi_store_month" and name.startswith("gx_") for asset, name in checks)
    assert ("marts/source_freshness", "drops_on_time") in checks
    assert ("raw/load_log", "rows_reconciled") in checks


def test_the_mart_expectations_block_the_publish_and_the_raw_ones_do_not():
    from orchestration.assets.checks import gx_expectations

    blocking = {spec.asset_key.to_user_string(): spec.blocking for spec in gx_expectations.check_specs}
    assert blocking["marts/kpi_store_month"] and blocking["marts/data_quality_quarantine"]
    assert not blocking["raw/dms_repair_orders"]
    # so the publish step waits for the check step, and a failed blocking check skips it
    structure = defs.resolve_job_def("daily_warehouse_job").graph.dependency_structure
    upstream = structure.input_to_upstream_outputs_for_node("warehouse__published")
    assert {output.node.name for outputs in upstream.values() for output in outputs} == {
        "gx_expectations", "warehouse_dbt_models"}


def test_daily_schedule_targets_the_partitioned_job():
    schedule = defs.resolve_schedule_def("daily_warehouse_job_schedule")
    job = defs.resolve_job_def("daily_warehouse_job")
    assert schedule.job_name == job.name
    assert job.partitions_def is not None
    # Dagster records one event per partition of every partitioned asset in a
    # run: only the landing carries the dates, and every drop table loads from it.
    graph = defs.resolve_asset_graph()
    partitioned = {k for k in graph.get_all_asset_keys() if graph.get(k).partitions_def is not None}
    assert partitioned == {AssetKey(["landing", "drops"])}
    assert graph.get(AssetKey(["raw", "dms_repair_orders"])).parent_keys == {AssetKey(["landing", "drops"])}


def test_a_run_loads_the_drop_dates_of_its_partitions():
    import datetime as dt

    from orchestration.partitions import run_drop_dates

    day = dt.date(2026, 2, 28)
    assert run_drop_dates({"dagster/partition": "2026-02-28"}) == (day, day)
    assert run_drop_dates({"dagster/asset_partition_range_start": "2026-02-01",
                           "dagster/asset_partition_range_end": "2026-02-28"}) == (dt.date(2026, 2, 1), day)
    assert run_drop_dates({}) == (None, None)


def test_the_schedule_asks_for_yesterdays_drops_in_beijing_time():
    import datetime as dt
    from zoneinfo import ZoneInfo

    from dagster import build_schedule_context

    from orchestration.schedules import daily_schedule

    at = dt.datetime(2026, 3, 1, 6, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    request = daily_schedule(build_schedule_context(scheduled_execution_time=at))
    assert request.partition_key == "2026-02-28"


def test_the_dbt_resource_knows_its_dbt_version_without_asking_the_executable():
    """dagster-dbt would run `dbt --version` before every build; the
    resource answers with the installed dbt-core's version, which must be
    the one the executables print."""
    import re
    import subprocess

    from orchestration import settings
    from orchestration.dbt_project import dbt_cli
    from orchestration.spark.step import DBT_SPARK_EXECUTABLE

    for executable in (settings.DBT_EXECUTABLE, DBT_SPARK_EXECUTABLE):
        printed = subprocess.run([executable, "--version"], capture_output=True, text=True, check=True).stdout
        assert re.search(r"\d+\.\d+\.\d+", printed).group(0) == str(dbt_cli()._cli_version)
