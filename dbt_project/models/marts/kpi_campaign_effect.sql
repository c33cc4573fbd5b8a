-- One row per store and campaign (SPEC section 7, "Campaign effect";
-- docs/metrics.md): what the contacted did in the window, what the
-- comparison group of the same strata says would have happened anyway, and
-- the difference with its 95% interval, against the cost and the plan.
--
-- Per stratum s (churn status x annual spend band at the month end before the
-- start) with n_s contacted, r_s of them returned, and m_s comparison
-- customers of whom c_s returned: a stratum with m_s = 0 is unmatched and
-- left out of the effect. Over the matched strata (N = sum n_s):
--   expected returns E = sum n_s * c_s / m_s
--   incremental returns = sum r_s - E;  uplift = (sum r_s - E) / N
--   Var(uplift) = sum (n_s / N)^2 * (p_s (1 - p_s) / n_s + q_s (1 - q_s) / m_s)
--   with p_s = r_s / n_s, q_s = c_s / m_s (independent binomials per stratum).
with

campaigns as (
    select * from {{ ref('int_campaigns_windowed') }}
),

customers as (
    select * from {{ ref('int_campaign_customers_measured') }}
),

strata as (
    select
        store_code,
        campaign_id,
        churn_status,
        annual_spend_band,
        count(*) filter (where side = 'contacted') as contacted,
        count(*) filter (where side = 'contacted' and is_returned) as returned,
        coalesce(sum(gross_profit) filter (where side = 'contacted'), 0) as gross_profit,
        count(*) filter (where side = 'comparison') as comparison_customers,
        count(*) filter (where side = 'comparison' and is_returned) as comparison_returned,
        coalesce(sum(gross_profit) filter (where side = 'comparison'), 0) as comparison_gross_profit
    from customers
    group by store_code, campaign_id, churn_status, annual_spend_band
),

matched_strata as (
    select
        *,
        cast(returned as double) / contacted as return_rate,
        cast(comparison_returned as double) / comparison_customers as comparison_return_rate,
        contacted * cast(comparison_returned as double) / comparison_customers as expected_returns,
        contacted * cast(comparison_gross_profit as double) / comparison_customers as expected_gross_profit
    from strata
    where contacted > 0 and comparison_customers > 0
),

-- The variance of the incremental returns sum r_s - E: N^2 Var(uplift).
effect as (
    select
        store_code,
        campaign_id,
        cast(sum(contacted) as bigint) as matched_contacted,
        cast(sum(returned) as bigint) as matched_returned,
        cast(sum(comparison_customers) as bigint) as comparison_customers,
        cast(sum(comparison_returned) as bigint) as comparison_returned,
        sum(expected_returns) as expected_returns,
        cast(sum(gross_profit) as decimal(18, 2)) as matched_gross_profit,
        sum(expected_gross_profit) as expected_gross_profit,
        sum(
            contacted * return_rate * (1 - return_rate)
            + contacted * contacted * comparison_return_rate * (1 - comparison_return_rate) / comparison_customers
        ) as incremental_returns_variance
    from matched_strata
    group by store_code, campaign_id
),

contacted as (
    select
        store_code,
        campaign_id,
        count(*) as contacted,
        count(*) filter (where reached) as reached,
        count(*) filter (where is_returned) as returned,
        count(*) filter (where is_returned_after_contact) as returned_after_contact,
        cast(coalesce(sum(visits), 0) as bigint) as visits,
        cast(coalesce(sum(revenue), 0) as decimal(18, 2)) as revenue,
        cast(coalesce(sum(gross_profit), 0) as decimal(18, 2)) as gross_profit
    from customers
    where side = 'contacted'
    group by store_code, campaign_id
),

measured as (
    select
        campaigns.*,
        coalesce(contacted.contacted, 0) as contacted,
        case when campaigns.has_contact_file then coalesce(contacted.reached, 0) end as reached,
        coalesce(contacted.returned, 0) as returned,
        coalesce(contacted.returned_after_contact, 0) as returned_after_contact,
        coalesce(contacted.visits, 0) as visits,
        coalesce(contacted.revenue, 0) as revenue,
        coalesce(contacted.gross_profit, 0) as gross_profit,
        coalesce(effect.matched_contacted, 0) as matched_contacted,
        coalesce(effect.matched_returned, 0) as matched_returned,
        coalesce(effect.comparison_customers, 0) as comparison_customers,
        coalesce(effect.comparison_returned, 0) as comparison_returned,
        effect.expected_returns,
        effect.matched_gross_profit,
        effect.expected_gross_profit,
        effect.incremental_returns_variance
    from campaigns
    left join contacted
        on contacted.store_code = campaigns.store_code
        and contacted.campaign_id = campaigns.campaign_id
    left join effect
        on effect.store_code = campaigns.store_code
        and effect.campaign_id = campaigns.campaign_id
),

with_effect as (
    select
        *,
        matched_returned - expected_returns as incremental_returns,
        {{ safe_divide('matched_returned - expected_returns', 'matched_contacted') }} as uplift,
        sqrt(incremental_returns_variance) / nullif(matched_contacted, 0) as uplift_std_error,
        cast(round(matched_gross_profit - expected_gross_profit, 2) as decimal(18, 2)) as incremental_gross_profit
    from measured
),

final as (
    select
        store_code,
        campaign_id,
        cast(last_day(start_date) as date) as month_end,
        campaign_name,
        campaign_kind,
        target_reason,
        start_date,
        end_date,
        window_end,
        as_of_date,
        measured_through,
        is_running,
        has_contact_file,
        case when has_contact_file then 'concurrent' else 'year_before' end as comparison_design,
        strata_month_end,
        comparison_month_end,
        cost,
        planned_returns,
        contacted,
        reached,
        {{ safe_divide('reached', 'contacted') }} as reach_rate,
        returned,
        {{ safe_divide('returned', 'contacted') }} as return_rate,
        returned_after_contact,
        {{ safe_divide('returned_after_contact', 'contacted') }} as returned_after_contact_rate,
        visits,
        revenue,
        gross_profit,
        case when returned > 0 then {{ money_per('cost', 'returned') }} end as cost_per_returned,
        {{ safe_divide('returned', 'planned_returns') }} as planned_returns_share,
        contacted - matched_contacted as unmatched_contacted,
        matched_contacted,
        matched_returned,
        {{ safe_divide('matched_returned', 'matched_contacted') }} as matched_return_rate,
        comparison_customers,
        comparison_returned,
        {{ safe_divide('comparison_returned', 'comparison_customers') }} as comparison_return_rate,
        expected_returns,
        {{ safe_divide('expected_returns', 'matched_contacted') }} as expected_return_rate,
        incremental_returns,
        uplift,
        uplift_std_error,
        uplift - {{ var('campaign_interval_z') }} * uplift_std_error as uplift_ci_low,
        uplift + {{ var('campaign_interval_z') }} * uplift_std_error as uplift_ci_high,
        case when incremental_returns > 0
            then cast(round(cost / incremental_returns, 2) as decimal(18, 2))
        end as cost_per_incremental_return,
        matched_gross_profit,
        cast(round(expected_gross_profit, 2) as decimal(18, 2)) as expected_gross_profit,
        incremental_gross_profit,
        cast(incremental_gross_profit - cost as decimal(18, 2)) as campaign_return
    from with_effect
)

select * from final
