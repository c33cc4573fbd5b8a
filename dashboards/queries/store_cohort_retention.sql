-- Six-month cohort retention of a store by month (六个月队列保留率, SPEC section 7),
-- from marts.kpi_store_month: cohort = customers with a visit in month N-6;
-- returned = those with a visit in months N-5 .. N;
--   cohort_retention_rate = cohort_returned / cohort_size = 1 - cohort_churn_rate.
-- Parameter: $store_code (one store; NULL = every store, which is how the
-- renderer runs it: one query for all store pages).
select
    store_code,
    month_end,
    cohort_size,
    cohort_returned,
    cohort_retention_rate
from marts.kpi_store_month
where ($store_code is null or store_code = $store_code)
order by store_code, month_end
