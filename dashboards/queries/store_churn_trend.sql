-- Churn trend of a store (流失率趋势).
--   churn_rate (绝对流失率)               = churned / on_file
--   cohort_churn_rate (第N月流失率)       = 1 - cohort_returned / cohort_size,
--                                          cohort = customers with a visit in month N-6
--   value_weighted_churn_rate (相对流失率) = churned_annual_spend / on_file_annual_spend
-- Parameter: $store_code (one store; NULL = every store, which is how the
-- renderer runs it: one query for all store pages).
select
    store_code,
    month_end,
    churned,
    on_file,
    churn_rate,
    cohort_size,
    cohort_returned,
    cohort_size - cohort_returned as cohort_lost,
    cohort_churn_rate,
    churned_annual_spend,
    on_file_annual_spend,
    value_weighted_churn_rate
from marts.kpi_store_month
where ($store_code is null or store_code = $store_code)
order by store_code, month_end
