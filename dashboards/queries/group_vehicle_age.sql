-- Churn by vehicle age against the industry line (车龄流失 vs 行业线 5/8/12%):
-- of the vehicles a store sold within 1, 2 and 3 years, the share churned, per
-- store and for the group, every month (marts.kpi_vehicle_age_churn_month;
-- the industry line is the seed industry_churn_lines).
select
    v.month_end,
    v.scope_level,
    v.scope_code,
    d.store_name,
    d.region,
    v.within_years,
    v.vehicles_on_file,
    v.churned,
    v.churn_rate,
    v.industry_churn_rate,
    v.is_above_industry_line
from marts.kpi_vehicle_age_churn_month v
left join marts.dim_stores d on v.scope_level = 'store' and d.store_code = v.scope_code
where v.scope_level in ('store', 'group')
order by v.month_end, v.scope_level = 'group', v.scope_code, v.within_years
