from dagster import DailyPartitionsDefinition

from orchestration import settings

# One partition per business date of the landing (SPEC section 3): a daily
# run loads that day's drops of every store.
daily_drops = DailyPartitionsDefinition(start_date=settings.first_drop_date(), timezone="Asia/Shanghai")
