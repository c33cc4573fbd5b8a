-- Churn by vehicle model (车型流失) at a store's latest month_end, aggregated
-- from marts.fct_customer_month (one row per customer = vehicle on file);
-- the 15 models with the most customers on file.
-- Parameter: $store_code (one store; NULL = every store, which is how the
-- renderer runs it: one query for all store pages).
with latest as (
    select store_code, max(month_end) as month_end
    from marts.kpi_store_month
    where ($store_code is null or store_code = $store_code)
    group by store_code
),
by_model as (
    select
        f.store_code,
        coalesce(f.model, '(未知 unknown)')                          as model,
        count(*)                                                    as on_file,
        count(*) filter (where f.churn_status = 'active')           as active,
        count(*) filter (where f.churn_status = 'at_risk')          as at_risk,
        count(*) filter (where f.churn_status = 'churned')          as churned,
        count(*) filter (where f.is_hidden_churn)                   as hidden_churn,
        count(*) filter (where f.churn_status = 'churned') / count(*)::double as churn_rate
    from marts.fct_customer_month f
    join latest l on l.store_code = f.store_code and l.month_end = f.month_end
    group by all
)
select *
from by_model
qualify row_number() over (partition by store_code order by on_file desc, model) <= 15
order by store_code, on_file desc, model
