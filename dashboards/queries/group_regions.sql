-- Region roll-up (大区汇总) of every month from marts.kpi_scope_month: a VIN
-- seen at two stores of a region is one customer of the region.
select
    r.month_end,
    r.scope_code                                   as region,
    (select count(*) from marts.dim_stores d where d.region = r.scope_code) as stores,
    r.on_file,
    r.active,
    r.at_risk,
    r.churned,
    r.hidden_churn,
    r.churn_rate,
    r.value_weighted_churn_rate,
    r.churned_annual_spend,
    r.on_file_annual_spend,
    r.cohort_size,
    r.cohort_returned,
    r.cohort_retention_rate,
    r.revenue,
    r.paid_visits,
    r.per_ticket_value,
    r.labor_amount,
    r.parts_amount,
    r.labor_parts_ratio,
    r.gross_profit,
    r.gross_margin,
    r.policies_expiring,
    r.policies_renewed,
    r.renewal_rate,
    r.value_at_risk,
    r.churned_group_transfers,
    r.churned_to_competitors
from marts.kpi_scope_month r
where r.scope_level = 'region'
order by r.month_end, r.scope_code
