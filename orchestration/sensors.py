"""The new-drops sensor: a run as soon as drops land, beside the daily schedule.

Each evaluation lists the landing's drop files (folder names and one stat per
file, never a read) and requests one run over the business dates of the files
written since the last request. The cursor is that high-water mark: the
newest modification time requested, with the files written at that very
time, so a file landing in the same clock tick is not lost. A store that
delivers late, or re-delivers a corrected drop, writes files newer than the
mark, so its dates run within minutes instead of at tomorrow's schedule.

- A file is taken once it has not changed for SETTLE_SECONDS: a drop still
  being copied waits for the next evaluation.
- While a run of the job is queued or running the sensor waits: DuckDB has
  one writer, and the files stay newer than the mark until requested.
- With no cursor yet (the sensor was just turned on), the dates are the ones
  the loader would load: files the warehouse's load log does not hold.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from pathlib import Path

from dagster import (
    DagsterRunStatus,
    DefaultSensorStatus,
    RunRequest,
    RunsFilter,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from orchestration.partitions import RANGE_END_TAG, RANGE_START_TAG, daily_drops
from orchestration.resources import LandingResource, WarehouseResource
from orchestration.schedules import daily_job
from sources.contract import DROP_TABLES
from sources.landing import discover

SENSOR_NAME = "new_drops_sensor"
EVALUATION_INTERVAL_SECONDS = 120
# A file younger than this may still be being written.
SETTLE_SECONDS = 60
UNFINISHED = [DagsterRunStatus.QUEUED, DagsterRunStatus.NOT_STARTED, DagsterRunStatus.STARTING,
              DagsterRunStatus.STARTED, DagsterRunStatus.CANCELING]


@dataclass(frozen=True)
class Mark:
    """The newest file modification time already requested, and the files
    modified at exactly that time."""

    mtime_ns: int
    paths: frozenset[str]

    @classmethod
    def parse(cls, cursor: str | None) -> Mark | None:
        if not cursor:
            return None
        data = json.loads(cursor)
        return cls(int(data["mtime_ns"]), frozenset(data["paths"]))

    def dump(self) -> str:
        return json.dumps({"mtime_ns": self.mtime_ns, "paths": sorted(self.paths)})

    def is_newer(self, relative_path: str, mtime_ns: int) -> bool:
        return mtime_ns > self.mtime_ns or (mtime_ns == self.mtime_ns and relative_path not in self.paths)


@dataclass(frozen=True)
class _Drop:
    relative_path: str
    drop_date: dt.date
    mtime_ns: int


def _settled_drops(landing: Path, now: float) -> list[_Drop]:
    drops = []
    for f in discover(landing, tables=DROP_TABLES):
        try:
            mtime_ns = f.path.stat().st_mtime_ns
        except FileNotFoundError:  # removed since the listing
            continue
        if mtime_ns <= (now - SETTLE_SECONDS) * 1e9:
            drops.append(_Drop(f.relative_path, f.drop_date, mtime_ns))
    return drops


def _not_loaded(drops: list[_Drop], landing: Path, working_copy: Path) -> list[_Drop]:
    """The drops of the dates the loader would load (all of them with no warehouse yet)."""
    if not working_copy.exists():
        return drops
    import duckdb

    from sources.loader import changed_drop_dates

    by_path = {d.relative_path for d in drops}
    files = [f for f in discover(landing, tables=DROP_TABLES) if f.relative_path in by_path]
    with duckdb.connect(str(working_copy), read_only=True) as con:
        dates = set(changed_drop_dates(con, files))
    return [d for d in drops if d.drop_date in dates]


def _advance(mark: Mark | None, drops: list[_Drop]) -> Mark:
    newest = max(d.mtime_ns for d in drops)
    at_newest = frozenset(d.relative_path for d in drops if d.mtime_ns == newest)
    if mark is not None and mark.mtime_ns == newest:
        at_newest |= mark.paths
    return Mark(newest, at_newest)


@sensor(
    name=SENSOR_NAME,
    job=daily_job,
    minimum_interval_seconds=EVALUATION_INTERVAL_SECONDS,
    default_status=DefaultSensorStatus.STOPPED,
    description="Runs the daily job over the business dates of drops written since its last request, "
    "so a late or corrected drop is loaded within minutes (the 06:00 schedule stays).",
)
def new_drops_sensor(context: SensorEvaluationContext, landing: LandingResource, warehouse: WarehouseResource):
    in_progress = context.instance.get_run_records(
        RunsFilter(job_name=daily_job.name, statuses=UNFINISHED), limit=1
    )
    if in_progress:
        return SkipReason(f"run {in_progress[0].dagster_run.run_id} of {daily_job.name} is not finished")
    root = Path(landing.root)
    mark = Mark.parse(context.cursor)
    drops = _settled_drops(root, time.time())
    if mark is None:
        import duckdb

        try:
            new = _not_loaded(drops, root, Path(warehouse.path))
        except duckdb.IOException as e:  # another process writes it (e.g. `aftersales run`)
            return SkipReason(f"the warehouse is busy, trying again at the next evaluation: {e}")
    else:
        new = [d for d in drops if mark.is_newer(d.relative_path, d.mtime_ns)]
    if not new:
        return SkipReason(f"no new drops under {root}")
    next_mark = _advance(mark, new)
    dates = sorted({d.drop_date for d in new})
    keys = [day.isoformat() for day in dates if daily_drops.has_partition_key(day.isoformat())]
    if len(keys) < len(dates):
        outside = sorted({day.isoformat() for day in dates} - set(keys))
        context.log.warning(f"drops dated outside the partitions ({daily_drops.start:%Y-%m-%d} on): {outside}")
    if not keys:
        return SensorResult(skip_reason=SkipReason("no new drops inside the partitions"), cursor=next_mark.dump())
    first, last = keys[0], keys[-1]
    request = RunRequest(
        run_key=f"drops {first}..{last} written up to {next_mark.mtime_ns}",
        tags={RANGE_START_TAG: first, RANGE_END_TAG: last},
    )
    context.log.info(f"{len(new)} new drop files, dates {first} .. {last}")
    return SensorResult(run_requests=[request], cursor=next_mark.dump())
