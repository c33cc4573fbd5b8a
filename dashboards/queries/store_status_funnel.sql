-- Status funnel of a store for every month (客户状态漏斗), from marts.kpi_store_month:
-- on_file (建档) = active (在保) + at_risk (流失风险) + churned (流失);
-- hidden_churn (隐性流失) is the part of active that is overdue by mileage.
-- Every share is the step's count over on_file:
--   active_share = active / on_file, at_risk_share = at_risk / on_file,
--   churned_share = churned / on_file (= churn_rate),
--   hidden_churn_share = hidden_churn / on_file; NULL when on_file = 0.
-- Parameter: $store_code (one store; NULL = every store, which is how the
-- renderer runs it: one query for all store pages).
select
    store_code,
    month_end,
    on_file,
    active,
    at_risk,
    churned,
    hidden_churn,
    base_customers,
    new_customers,
    won_back,
    active / nullif(on_file, 0)::double       as active_share,
    at_risk / nullif(on_file, 0)::double      as at_risk_share,
    churned / nullif(on_file, 0)::double      as churned_share,
    hidden_churn / nullif(on_file, 0)::double as hidden_churn_share,
    churn_rate
from marts.kpi_store_month
where ($store_code is null or store_code = $store_code)
order by store_code, month_end
