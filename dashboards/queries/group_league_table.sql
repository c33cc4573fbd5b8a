-- The store league table (门店排行) of every month: every headline KPI of each
-- store from marts.kpi_store_month, ranked within the month by churn rate,
-- lowest first (ties share a rank; a store without a rate is unranked, last).
-- A store of marts.dim_stores without a row for a month is listed with NULLs.
-- Numerator / denominator of each rate:
--   churn_rate                = churned / on_file
--   value_weighted_churn_rate = churned_annual_spend / on_file_annual_spend
--   cohort_retention_rate     = cohort_returned / cohort_size
--   per_ticket_value          = revenue / paid_visits
--   labor_parts_ratio         = parts_amount / labor_amount
--   gross_margin              = gross_profit / revenue
--   renewal_rate              = policies_renewed / policies_expiring
with stores as (
    select store_code from marts.dim_stores
    union
    select distinct store_code from marts.kpi_store_month
),
months as (
    select distinct month_end from marts.kpi_store_month
),
kpi as (
    select
        k.*,
        lag(k.churn_rate) over (partition by k.store_code order by k.month_end) as prev_churn_rate
    from marts.kpi_store_month k
),
league as (
    select
        m.month_end,
        s.store_code,
        d.store_name,
        d.region,
        d.brand,
        k.as_of_date,
        k.on_file,
        k.active,
        k.at_risk,
        k.churned,
        k.hidden_churn,
        k.churn_rate,
        k.churn_rate - k.prev_churn_rate        as churn_rate_change,
        k.value_weighted_churn_rate,
        k.churned_annual_spend,
        k.on_file_annual_spend,
        k.cohort_size,
        k.cohort_returned,
        k.cohort_retention_rate,
        k.revenue,
        k.paid_visits,
        k.per_ticket_value,
        k.labor_amount,
        k.parts_amount,
        k.labor_parts_ratio,
        k.gross_profit,
        k.gross_margin,
        k.policies_expiring,
        k.policies_renewed,
        k.renewal_rate,
        k.value_at_risk,
        k.churned_group_transfers,
        k.churned_to_competitors,
        k.churned_natural,
        k.churned_insurer_assigned
    from months m
    cross join stores s
    left join marts.dim_stores d on d.store_code = s.store_code
    left join kpi k on k.store_code = s.store_code and k.month_end = m.month_end
)
select
    case when churn_rate is not null
         then rank() over (partition by month_end, churn_rate is null order by churn_rate)
    end as league_rank,
    *
from league
order by month_end, churn_rate is null, churn_rate, store_code
