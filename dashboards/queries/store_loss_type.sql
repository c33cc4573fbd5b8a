-- Loss type (流失类型) of a store's at-risk and churned customers by month, from
-- the latest reached survey after the last visit (marts.fct_customer_month.loss_type;
-- NULL = no reached survey), aggregated per store, month and loss type.
-- Parameter: $store_code (one store; NULL = every store, which is how the
-- renderer runs it: one query for all store pages).
select
    f.store_code,
    f.month_end,
    f.loss_type,
    count(*) filter (where f.churn_status = 'at_risk')          as at_risk,
    count(*) filter (where f.churn_status = 'churned')          as churned,
    coalesce(sum(f.annual_spend) filter (where f.churn_status = 'churned'), 0) as churned_annual_spend
from marts.fct_customer_month f
where f.churn_status in ('at_risk', 'churned')
  and ($store_code is null or f.store_code = $store_code)
group by f.store_code, f.month_end, f.loss_type
order by f.store_code, f.month_end, churned desc, at_risk desc, f.loss_type nulls last
