-- Status mix of a store's customers over time (客户状态构成):
-- active (在保) + at_risk (流失风险) + churned (流失) = on_file (建档).
-- hidden_churn (隐性流失) is the part of active that is overdue by mileage.
-- Parameter: $store_code (one store; NULL = every store, which is how the
-- renderer runs it: one query for all store pages).
select
    store_code,
    month_end,
    as_of_date,
    active,
    at_risk,
    churned,
    on_file,
    hidden_churn,
    new_customers,
    won_back
from marts.kpi_store_month
where ($store_code is null or store_code = $store_code)
order by store_code, month_end
