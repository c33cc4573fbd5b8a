-- League table of stores for the group's latest month_end (门店排行榜).
-- Every store of marts.dim_stores gets a row (KPI columns NULL when it has no
-- row for that month). Ranked by churn rate, lowest first; stores without a
-- churn rate are unranked and listed last.
-- Each rate is shown with its numerator/denominator, all from marts.kpi_store_month:
--   churn_rate                = churned / on_file
--   value_weighted_churn_rate = churned_annual_spend / on_file_annual_spend
--   cohort_churn_rate         = (cohort_size - cohort_returned) / cohort_size
--   per_ticket_value          = revenue / paid_visits
--   labor_parts_ratio         = parts_amount / labor_amount
--   renewal_rate              = policies_renewed / policies_expiring
with latest as (
    select max(month_end) as month_end
    from marts.kpi_store_month
),
stores as (
    select store_code from marts.dim_stores
    union
    select distinct store_code from marts.kpi_store_month
),
kpi as (
    select
        k.*,
        lag(k.churn_rate) over (partition by k.store_code order by k.month_end) as prev_churn_rate
    from marts.kpi_store_month k
),
league as (
    select
        s.store_code,
        d.store_name,
        d.region,
        d.brand,
        d.city,
        latest.month_end,
        k.as_of_date,
        k.on_file,
        k.active,
        k.at_risk,
        k.churned,
        k.hidden_churn,
        k.churn_rate,
        k.churn_rate - k.prev_churn_rate                         as churn_rate_change,
        k.value_weighted_churn_rate,
        k.churned_annual_spend,
        k.on_file_annual_spend,
        k.cohort_size,
        k.cohort_returned,
        k.cohort_size - k.cohort_returned                        as cohort_lost,
        k.cohort_churn_rate,
        k.revenue,
        k.paid_visits,
        k.per_ticket_value,
        k.labor_amount,
        k.parts_amount,
        k.labor_parts_ratio,
        k.policies_expiring,
        k.policies_renewed,
        k.renewal_rate
    from stores s
    cross join latest
    left join marts.dim_stores d on d.store_code = s.store_code
    left join kpi k on k.store_code = s.store_code and k.month_end = latest.month_end
)
select
    case when churn_rate is not null
         then rank() over (partition by churn_rate is null order by churn_rate)
    end as league_rank,
    *
from league
order by churn_rate is null, churn_rate, store_code
