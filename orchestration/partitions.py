import datetime as dt
from collections.abc import Mapping

from dagster import DailyPartitionsDefinition

from orchestration import settings

# One partition per business date of the landing (SPEC section 3): a daily
# run loads that day's drops of every store. end_offset=1 lets a run load
# drops dated today (a store may export before midnight); the schedule still
# asks for yesterday's date. The first partition follows the landing's first
# drop (settings.first_drop_date), read when the definitions load.
daily_drops = DailyPartitionsDefinition(
    start_date=settings.first_drop_date(), timezone="Asia/Shanghai", end_offset=1
)

# The run tags that say which partitions a run covers: one date (the
# schedule), or a range (aftersales run, the sensor, a backfill as one run).
PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def run_drop_dates(tags: Mapping[str, str]) -> tuple[dt.date | None, dt.date | None]:
    """The first and last drop date a run covers, from its tags; (None, None)
    for a run of no partition (every drop of the landing)."""
    if tags.get(PARTITION_TAG):
        day = dt.date.fromisoformat(tags[PARTITION_TAG])
        return day, day
    if tags.get(RANGE_START_TAG) and tags.get(RANGE_END_TAG):
        return dt.date.fromisoformat(tags[RANGE_START_TAG]), dt.date.fromisoformat(tags[RANGE_END_TAG])
    return None, None
