-- Churn rate per store and for the group over every month (流失率趋势), from
-- marts.kpi_scope_month: churn_rate = churned / on_file at each month end.
select
    k.scope_level,
    k.scope_code,
    d.store_name,
    k.month_end,
    k.churned,
    k.on_file,
    k.churn_rate
from marts.kpi_scope_month k
left join marts.dim_stores d on k.scope_level = 'store' and d.store_code = k.scope_code
where k.scope_level in ('store', 'group')
order by k.scope_level, k.scope_code, k.month_end
