"""The new-drops sensor, evaluated by Dagster on a real instance over a copy
of the hand-worked landing whose files are written as the test goes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from dagster import DagsterRun, DagsterRunStatus, build_sensor_context, instance_for_test

from orchestration.resources import LandingResource, warehouse_resource
from orchestration.sensors import RANGE_END_TAG, RANGE_START_TAG, SETTLE_SECONDS, new_drops_sensor
from sources.landing import discover
from sources.loader import load_files

HAND_LANDING = Path(__file__).resolve().parent / "fixtures" / "hand_landing"
A_DAY_AGO = time.time() - 86400


def _age(path: Path, when: float) -> None:
    os.utime(path, (when, when))


def _folder_dates(landing: Path) -> list[str]:
    """The drop dates, read off the folder names <source>/<store>/<date>."""
    return sorted({p.name for p in landing.glob("*/*/*") if p.is_dir() and p.parts[-3] != "reference"})


@pytest.fixture
def landing(tmp_path) -> Path:
    root = tmp_path / "landing"
    shutil.copytree(HAND_LANDING, root)
    for f in root.rglob("*.csv"):
        _age(f, A_DAY_AGO)
    return root


@pytest.fixture
def instance():
    with instance_for_test() as inst:
        yield inst


def _tick(instance, landing: Path, warehouse: Path, cursor: str | None = None):
    context = build_sensor_context(
        instance=instance,
        cursor=cursor,
        resources={"landing": LandingResource(root=str(landing)), "warehouse": warehouse_resource(warehouse)},
    )
    return new_drops_sensor.evaluate_tick(context)


def _ranges(tick) -> list[tuple[str, str]]:
    return [(r.tags[RANGE_START_TAG], r.tags[RANGE_END_TAG]) for r in tick.run_requests]


def _deliver(landing: Path, source_file: str, to_folder: str, written_at: float) -> Path:
    target = landing / to_folder / Path(source_file).name
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(landing / source_file, target)
    _age(target, written_at)
    return target


def test_first_tick_without_warehouse_asks_for_every_drop_date_then_nothing(instance, landing, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    dates = _folder_dates(landing)
    first = _tick(instance, landing, warehouse)
    assert _ranges(first) == [(dates[0], dates[-1])]
    again = _tick(instance, landing, warehouse, first.cursor)
    assert again.run_requests == [] and again.cursor in (None, first.cursor)
    assert "no new drops" in again.skip_message


def test_a_late_drop_asks_for_its_own_date_once_it_has_settled(instance, landing, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    cursor = _tick(instance, landing, warehouse).cursor
    late = _deliver(landing, "dms/S1/2024-07-31/repair_orders.csv", "dms/S1/2024-05-02", time.time())
    # still being written, as far as the sensor can tell
    tick = _tick(instance, landing, warehouse, cursor)
    assert tick.run_requests == []
    _age(late, time.time() - SETTLE_SECONDS - 5)
    tick = _tick(instance, landing, warehouse, cursor)
    assert _ranges(tick) == [("2024-05-02", "2024-05-02")]
    assert _tick(instance, landing, warehouse, tick.cursor).run_requests == []


def test_a_redelivered_drop_and_a_late_one_give_one_run_over_both_dates(instance, landing, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    cursor = _tick(instance, landing, warehouse).cursor
    written = time.time() - SETTLE_SECONDS - 5
    _age(landing / "insurance/S2/2024-01-22/policies.csv", written)  # re-delivered in place
    _deliver(landing, "survey/S1/2024-07-31/responses.csv", "survey/S2/2024-03-10", written)
    tick = _tick(instance, landing, warehouse, cursor)
    assert _ranges(tick) == [("2024-01-22", "2024-03-10")]
    # a file written in the same clock tick as the newest requested one is still new
    _deliver(landing, "survey/S1/2024-07-31/responses.csv", "survey/S1/2024-06-01", written)
    assert _ranges(_tick(instance, landing, warehouse, tick.cursor)) == [("2024-06-01", "2024-06-01")]


def test_no_request_while_a_run_of_the_job_is_unfinished(instance, landing, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    cursor = _tick(instance, landing, warehouse).cursor
    _deliver(landing, "dms/S1/2024-07-31/repair_orders.csv", "dms/S1/2024-05-02", time.time() - 3600)
    run = DagsterRun(job_name="daily_warehouse_job", run_id="a" * 36, status=DagsterRunStatus.STARTED)
    instance.add_run(run)
    tick = _tick(instance, landing, warehouse, cursor)
    assert tick.run_requests == [] and "not finished" in tick.skip_message
    instance.report_run_failed(instance.get_run_by_id(run.run_id))  # the run ends
    assert _ranges(_tick(instance, landing, warehouse, cursor)) == [("2024-05-02", "2024-05-02")]


def test_first_tick_with_a_warehouse_asks_only_for_what_it_has_not_loaded(instance, landing, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    working_copy = Path(warehouse_resource(warehouse).path)
    held_back = "2024-07-30"
    files = [f for f in discover(landing) if str(f.drop_date) != held_back]
    with duckdb.connect(str(working_copy)) as con:  # the real loader, every date but one
        load_files(con, files)
    assert held_back in _folder_dates(landing)
    assert _ranges(_tick(instance, landing, warehouse)) == [(held_back, held_back)]


def test_first_tick_waits_while_another_process_writes_the_warehouse(instance, landing, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    working_copy = Path(warehouse_resource(warehouse).path)
    script = (f"import duckdb, sys; con = duckdb.connect({str(working_copy)!r}); "
              "con.execute('create table t (x int)'); print('open', flush=True); sys.stdin.read()")
    writer = subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "open"
        tick = _tick(instance, landing, warehouse)
        assert tick.run_requests == [] and "busy" in tick.skip_message and tick.cursor is None
    finally:
        writer.communicate("")
    dates = _folder_dates(landing)
    assert _ranges(_tick(instance, landing, warehouse)) == [(dates[0], dates[-1])]
