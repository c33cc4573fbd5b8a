-- The monthly KPI table of a store (月度指标), newest month first.
-- Parameter: $store_code (one store; NULL = every store, which is how the
-- renderer runs it: one query for all store pages).
select
    store_code,
    month_end,
    as_of_date,
    on_file,
    active,
    at_risk,
    churned,
    new_customers,
    won_back,
    hidden_churn,
    churn_rate,
    value_weighted_churn_rate,
    churned_annual_spend,
    on_file_annual_spend,
    cohort_size,
    cohort_returned,
    cohort_size - cohort_returned as cohort_lost,
    cohort_churn_rate,
    visits,
    paid_visits,
    revenue,
    per_ticket_value,
    labor_amount,
    parts_amount,
    labor_parts_ratio,
    gross_profit,
    gross_margin,
    policies_expiring,
    policies_renewed,
    renewal_rate,
    value_at_risk
from marts.kpi_store_month
where ($store_code is null or store_code = $store_code)
order by store_code, month_end desc
