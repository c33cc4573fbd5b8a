-- Churn breakdowns of a store for every month (流失细分, SPEC section 8), from
-- marts.kpi_churn_breakdown_month at scope_level 'store': by vehicle model,
-- customer type, district, last service type and annual spend band.
--   churn_rate                = churned / on_file
--   value_weighted_churn_rate = churned_annual_spend / on_file_annual_spend
-- Rows come largest first (on_file); the page orders the bands by their range.
-- Parameter: $store_code (one store; NULL = every store, which is how the
-- renderer runs it: one query for all store pages).
select
    scope_code as store_code,
    month_end,
    dimension,
    dimension_value,
    on_file,
    active,
    at_risk,
    churned,
    hidden_churn,
    churned_annual_spend,
    on_file_annual_spend,
    churn_rate,
    value_weighted_churn_rate
from marts.kpi_churn_breakdown_month
where scope_level = 'store'
  and dimension in ('vehicle_model', 'customer_type', 'district', 'last_service_type', 'annual_spend_band')
  and ($store_code is null or scope_code = $store_code)
order by store_code, month_end, dimension, on_file desc, dimension_value
