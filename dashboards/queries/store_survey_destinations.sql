-- Where a store's surveyed customers get serviced now (流失去向), by month, from
-- marts.kpi_survey_destinations_month at scope_level 'store': reached responses
-- per destination (serviced_at; 'none' = not serviced, 'unknown' = left empty).
--   destination_share = responses / reached_surveys
--   confirmed_lost    = the destination's responses that are confirmed lost
-- Parameter: $store_code (one store; NULL = every store, which is how the
-- renderer runs it: one query for all store pages).
select
    scope_code as store_code,
    month_end,
    destination,
    is_elsewhere,
    responses,
    reached_surveys,
    destination_share,
    confirmed_lost
from marts.kpi_survey_destinations_month
where scope_level = 'store'
  and ($store_code is null or scope_code = $store_code)
order by store_code, month_end, responses desc, destination
