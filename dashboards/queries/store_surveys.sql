-- Surveys of a store's customers by month (回访), from marts.kpi_store_month:
-- surveys, reached surveys, confirmed lost (reached, serviced elsewhere and not
-- insurer-assigned only), and the win-back outcome of the reached surveys of
-- at-risk or churned customers:
--   confirmed_lost_rate = confirmed_lost / reached_surveys
--   win_back_rate       = won_back_after_survey / win_back_eligible
-- Parameter: $store_code (one store; NULL = every store, which is how the
-- renderer runs it: one query for all store pages).
select
    store_code,
    month_end,
    surveys,
    reached_surveys,
    confirmed_lost,
    insurer_assigned_only,
    confirmed_lost_rate,
    win_back_booked,
    win_back_eligible,
    won_back_after_survey,
    win_back_pending,
    win_back_rate
from marts.kpi_store_month
where ($store_code is null or store_code = $store_code)
order by store_code, month_end
