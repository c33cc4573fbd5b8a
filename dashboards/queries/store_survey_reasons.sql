-- Survey reasons of a store by month (流失原因), from marts.kpi_survey_reasons_month
-- at scope_level 'store': reached responses per reason (a response with two
-- reasons counts once for each), so the shares may sum to more than 1.
--   reason_share = responses / reached_surveys
--   confirmed_lost_responses = the reason's responses that are confirmed lost
-- Parameter: $store_code (one store; NULL = every store, which is how the
-- renderer runs it: one query for all store pages).
select
    scope_code as store_code,
    month_end,
    reason,
    responses,
    reached_surveys,
    reason_share,
    confirmed_lost_responses
from marts.kpi_survey_reasons_month
where scope_level = 'store'
  and ($store_code is null or scope_code = $store_code)
order by store_code, month_end, responses desc, reason
