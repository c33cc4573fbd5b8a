-- The group median (集团中位数) of each headline KPI over the stores, per month:
-- the middle store, not the group's own rate (which weights big stores more).
-- A store without a value that month (NULL rate) does not count.
select
    month_end,
    count(*)                                   as stores,
    median(churn_rate)                         as churn_rate,
    median(value_weighted_churn_rate)          as value_weighted_churn_rate,
    median(cohort_retention_rate)              as cohort_retention_rate,
    median(per_ticket_value)                   as per_ticket_value,
    median(labor_parts_ratio)                  as labor_parts_ratio,
    median(gross_margin)                       as gross_margin,
    median(renewal_rate)                       as renewal_rate,
    median(hidden_churn)                       as hidden_churn,
    median(value_at_risk)                      as value_at_risk
from marts.kpi_store_month
group by month_end
order by month_end
