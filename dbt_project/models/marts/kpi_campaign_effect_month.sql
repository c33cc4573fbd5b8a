-- One row per scope (store, region, group), month, campaign kind and target
-- reason (SPEC section 7, "Campaign effect"): the campaigns that started in
-- the month, their counts and money summed, and the rates and the uplift's
-- interval recomputed from the sums. Which kinds of measure work, against
-- which reason.
--
-- Each campaign belongs to one store, so the sums roll up through
-- int_stores_scoped without double counting campaigns (a vehicle contacted by
-- two campaigns counts in each). The uplift's variance is the sum of the
-- campaigns' variances of their incremental returns, divided by the summed
-- matched contacted squared: campaigns are taken as independent samples.
with

campaigns as (
    select * from {{ ref('kpi_campaign_effect') }}
),

stores_scoped as (
    select * from {{ ref('int_stores_scoped') }}
),

summed as (
    select
        stores_scoped.scope_level,
        stores_scoped.scope_code,
        campaigns.month_end,
        campaigns.campaign_kind,
        coalesce(campaigns.target_reason, 'none') as target_reason,
        count(*) as campaigns,
        count(*) filter (where campaigns.is_running) as running_campaigns,
        count(*) filter (where campaigns.matched_contacted > 0) as measured_campaigns,
        cast(sum(campaigns.contacted) as bigint) as contacted,
        cast(coalesce(sum(campaigns.contacted) filter (where campaigns.has_contact_file), 0) as bigint)
            as listed_contacted,
        cast(coalesce(sum(campaigns.reached), 0) as bigint) as reached,
        cast(sum(campaigns.returned) as bigint) as returned,
        cast(sum(campaigns.returned_after_contact) as bigint) as returned_after_contact,
        cast(sum(campaigns.visits) as bigint) as visits,
        cast(sum(campaigns.revenue) as decimal(18, 2)) as revenue,
        cast(sum(campaigns.gross_profit) as decimal(18, 2)) as gross_profit,
        cast(coalesce(sum(campaigns.cost), 0) as decimal(18, 2)) as cost,
        cast(sum(campaigns.planned_returns) as bigint) as planned_returns,
        cast(coalesce(sum(campaigns.returned) filter (where campaigns.planned_returns is not null), 0) as bigint)
            as planned_campaigns_returned,
        cast(sum(campaigns.unmatched_contacted) as bigint) as unmatched_contacted,
        cast(sum(campaigns.matched_contacted) as bigint) as matched_contacted,
        cast(sum(campaigns.matched_returned) as bigint) as matched_returned,
        coalesce(sum(campaigns.expected_returns), 0) as expected_returns,
        sum(power(campaigns.uplift_std_error * campaigns.matched_contacted, 2)) as incremental_returns_variance,
        cast(coalesce(sum(campaigns.cost) filter (where campaigns.matched_contacted > 0), 0) as decimal(18, 2))
            as measured_cost,
        cast(coalesce(sum(campaigns.incremental_gross_profit), 0) as decimal(18, 2)) as incremental_gross_profit
    from campaigns
    inner join stores_scoped
        on stores_scoped.store_code = campaigns.store_code
    group by all
),

with_effect as (
    select
        *,
        case when matched_contacted > 0 then matched_returned - expected_returns end as incremental_returns,
        {{ safe_divide('matched_returned - expected_returns', 'matched_contacted') }} as uplift,
        sqrt(incremental_returns_variance) / nullif(matched_contacted, 0) as uplift_std_error
    from summed
),

final as (
    select
        scope_level,
        scope_code,
        month_end,
        campaign_kind,
        target_reason,
        campaigns,
        running_campaigns,
        measured_campaigns,
        contacted,
        listed_contacted,
        reached,
        {{ safe_divide('reached', 'listed_contacted') }} as reach_rate,
        returned,
        {{ safe_divide('returned', 'contacted') }} as return_rate,
        returned_after_contact,
        {{ safe_divide('returned_after_contact', 'contacted') }} as returned_after_contact_rate,
        visits,
        revenue,
        gross_profit,
        cost,
        case when returned > 0 then {{ money_per('cost', 'returned') }} end as cost_per_returned,
        planned_returns,
        planned_campaigns_returned,
        {{ safe_divide('planned_campaigns_returned', 'planned_returns') }} as planned_returns_share,
        unmatched_contacted,
        matched_contacted,
        matched_returned,
        {{ safe_divide('matched_returned', 'matched_contacted') }} as matched_return_rate,
        expected_returns,
        {{ safe_divide('expected_returns', 'matched_contacted') }} as expected_return_rate,
        incremental_returns,
        uplift,
        uplift_std_error,
        uplift - {{ var('campaign_interval_z') }} * uplift_std_error as uplift_ci_low,
        uplift + {{ var('campaign_interval_z') }} * uplift_std_error as uplift_ci_high,
        measured_cost,
        case when incremental_returns > 0
            then cast(round(measured_cost / incremental_returns, 2) as decimal(18, 2))
        end as cost_per_incremental_return,
        incremental_gross_profit,
        cast(incremental_gross_profit - measured_cost as decimal(18, 2)) as campaign_return
    from with_effect
)

select * from final
