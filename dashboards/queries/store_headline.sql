-- Headline KPIs of a store for every month (门店概览), from marts.kpi_store_month,
-- with the month before's churn rate for the month-on-month change.
-- Numerator / denominator of each rate (SPEC section 7):
--   churn_rate                = churned / on_file
--   value_weighted_churn_rate = churned_annual_spend / on_file_annual_spend
--   cohort_retention_rate     = cohort_returned / cohort_size  (cohort = visited in month N-6)
--   per_ticket_value          = revenue / paid_visits
--   labor_parts_ratio         = parts_amount / labor_amount
--   gross_margin              = gross_profit / revenue
--   renewal_rate              = policies_renewed / policies_expiring
--   win_back_rate             = won_back_after_survey / win_back_eligible
--                               (win_back_pending: eligible, 90-day window still open)
--   value_at_risk             = annual spend of the at_risk customers
--   lifetime_value_lost       = annual spend of the customers who churned this month
--                               (newly_churned_annual_spend) x remaining expected years
-- Parameter: $store_code (one store; NULL = every store, which is how the
-- renderer runs it: one query for all store pages).
select
    store_code,
    month_end,
    as_of_date,
    on_file,
    churned,
    churn_rate,
    lag(churn_rate) over (partition by store_code order by month_end) as prev_churn_rate,
    churned_annual_spend,
    on_file_annual_spend,
    value_weighted_churn_rate,
    cohort_size,
    cohort_returned,
    cohort_retention_rate,
    visits,
    paid_visits,
    revenue,
    per_ticket_value,
    labor_amount,
    parts_amount,
    labor_parts_ratio,
    labor_share,
    gross_profit,
    gross_margin,
    policies_expiring,
    policies_renewed,
    renewal_rate,
    win_back_eligible,
    won_back_after_survey,
    win_back_pending,
    win_back_rate,
    at_risk,
    value_at_risk,
    newly_churned,
    newly_churned_annual_spend,
    lifetime_value_lost
from marts.kpi_store_month
where ($store_code is null or store_code = $store_code)
order by store_code, month_end
