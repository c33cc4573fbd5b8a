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
