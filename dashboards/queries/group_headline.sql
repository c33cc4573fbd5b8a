-- The group's headline KPIs (集团概览) for every month, from the group scope of
-- marts.kpi_scope_month: a VIN seen at two stores of the group is one group
-- customer, and a move to a sibling store is a group transfer, not a loss.
-- Every rate comes with its numerator and denominator (SPEC section 7).
select
    month_end,
    as_of_date,
    on_file,
    active,
    at_risk,
    churned,
    hidden_churn,
    new_customers,
    won_back,
    churn_rate,
    value_weighted_churn_rate,
    churned_annual_spend,
    on_file_annual_spend,
    cohort_size,
    cohort_returned,
    cohort_retention_rate,
    visits,
    paid_visits,
    revenue,
    per_ticket_value,
    labor_amount,
    parts_amount,
    labor_parts_ratio,
    gross_profit,
    gross_margin,
    policies_expiring,
    policies_renewed,
    renewal_rate,
    value_at_risk,
    churned_group_transfers,
    churned_to_competitors,
    churned_natural,
    churned_insurer_assigned
from marts.kpi_scope_month
where scope_level = 'group'
order by month_end
