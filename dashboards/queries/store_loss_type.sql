-- Loss type (流失类型) of a store's at-risk and churned customers at its latest
-- month_end, from the latest reached survey after the last visit
-- (marts.fct_customer_month.loss_type; NULL = no reached survey).
-- Parameter: $store_code (one store; NULL = every store, which is how the
-- renderer runs it: one query for all store pages).
with latest as (
    select store_code, max(month_end) as month_end
    from marts.kpi_store_month
    where ($store_code is null or store_code = $store_code)
    group by store_code
)
select
    f.store_code,
    f.loss_type,
    count(*) filter (where f.churn_status = 'at_risk')          as at_risk,
    count(*) filter (where f.churn_status = 'churned')          as churned,
    coalesce(sum(f.annual_spend) filter (where f.churn_status = 'churned'), 0) as churned_annual_spend
from marts.fct_customer_month f
join latest l on l.store_code = f.store_code and l.month_end = f.month_end
where f.churn_status in ('at_risk', 'churned')
group by f.store_code, f.loss_type
order by f.store_code, churned desc, at_risk desc, f.loss_type nulls last
