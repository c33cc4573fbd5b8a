-- Headline KPIs of a store (门店概览): its latest month and the month before,
-- for the month-on-month change.
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
    base_customers,
    new_customers,
    won_back,
    hidden_churn,
    churn_rate,
    churned_annual_spend,
    on_file_annual_spend,
    value_weighted_churn_rate,
    cohort_size,
    cohort_returned,
    cohort_size - cohort_returned as cohort_lost,
    cohort_churn_rate,
    cohort_retention_rate,
    visits,
    paid_visits,
    revenue,
    per_ticket_value,
    labor_amount,
    parts_amount,
    labor_parts_ratio,
    labor_share,
    parts_cost,
    gross_profit,
    gross_margin,
    policies_expiring,
    policies_renewed,
    renewal_rate,
    value_at_risk
from marts.kpi_store_month
where ($store_code is null or store_code = $store_code)
qualify row_number() over (partition by store_code order by month_end desc) <= 2
order by store_code, month_end desc
