-- One row per store, campaign, side and day of the measured window (SPEC
-- section 7, "Campaign effect"; docs/metrics.md 3.26): how many of the
-- matched contacted, and of their comparison group, had come back by each day
-- since the start. The campaigns pages draw the two return curves from it.
--
-- Only the matched strata count (those with contacted and comparison
-- customers), as in the effect: on the last measured day the contacted's
-- weighted_return_share is kpi_campaign_effect.matched_return_rate and the
-- comparison's its expected_return_rate, so the gap between the curves there
-- is the uplift. The comparison is weighted by the contacted's strata: a
-- comparison customer of stratum s who returned counts n_s / m_s (the
-- stratum's contacted over its comparison customers). Counts only: no VIN.
with

campaigns as (
    select * from {{ ref('int_campaigns_windowed') }}
),

customers as (
    select * from {{ ref('int_campaign_customers_measured') }}
),

matched_strata as (
    select
        store_code,
        campaign_id,
        churn_status,
        annual_spend_band,
        count(*) filter (where side = 'contacted') as contacted,
        count(*) filter (where side = 'comparison') as comparison_customers
    from customers
    group by store_code, campaign_id, churn_status, annual_spend_band
    having count(*) filter (where side = 'contacted') > 0
        and count(*) filter (where side = 'comparison') > 0
),

-- Each side's first measured day and its number of measured days.
sides as (
    select store_code, campaign_id, 'contacted' as side, start_date as measured_from,
        measured_through
    from campaigns
    union all
    select store_code, campaign_id, 'comparison' as side, comparison_start_date as measured_from,
        comparison_measured_through as measured_through
    from campaigns
),

matched_customers as (
    select
        customers.store_code,
        customers.campaign_id,
        customers.side,
        {{ days_between('customers.first_return_date', 'sides.measured_from') }} as return_day,
        -- A contacted customer counts once; a comparison one for the contacted of its stratum.
        case when customers.side = 'contacted' then 1.0
            else cast(matched_strata.contacted as double) / matched_strata.comparison_customers
        end as weight
    from customers
    inner join matched_strata
        on matched_strata.store_code = customers.store_code
        and matched_strata.campaign_id = customers.campaign_id
        and matched_strata.churn_status = customers.churn_status
        and matched_strata.annual_spend_band = customers.annual_spend_band
    inner join sides
        on sides.store_code = customers.store_code
        and sides.campaign_id = customers.campaign_id
        and sides.side = customers.side
),

side_totals as (
    select
        store_code,
        campaign_id,
        side,
        count(*) as customers,
        sum(count(*) filter (where side = 'contacted')) over (partition by store_code, campaign_id)
            as matched_contacted
    from matched_customers
    group by store_code, campaign_id, side
),

returns_by_day as (
    select
        store_code,
        campaign_id,
        side,
        return_day,
        count(*) as returned,
        sum(weight) as weighted_returned
    from matched_customers
    where return_day is not null
    group by store_code, campaign_id, side, return_day
),

days as (
    select store_code, campaign_id, side, measured_from, cast(day_offset as integer) as day_offset
    from (
        select
            sides.store_code,
            sides.campaign_id,
            sides.side,
            sides.measured_from,
            {{ unnest_list(integers_from_to('0', days_between('sides.measured_through', 'sides.measured_from'))) }}
                as day_offset
        from sides
        -- Nothing is measured before the start (a campaign not begun yet).
        where sides.measured_through >= sides.measured_from
    )
),

final as (
    select
        days.store_code,
        days.campaign_id,
        days.side,
        days.day_offset,
        cast(days.measured_from + days.day_offset as date) as curve_date,
        cast(side_totals.customers as bigint) as customers,
        cast(coalesce(sum(returns_by_day.returned) over cumulative, 0) as bigint) as returned,
        {{ safe_divide('coalesce(sum(returns_by_day.returned) over cumulative, 0)', 'side_totals.customers') }}
            as return_share,
        cast(side_totals.matched_contacted as bigint) as matched_contacted,
        coalesce(sum(returns_by_day.weighted_returned) over cumulative, 0) as weighted_returned,
        {{ safe_divide('coalesce(sum(returns_by_day.weighted_returned) over cumulative, 0)',
                       'side_totals.matched_contacted') }} as weighted_return_share
    from days
    inner join side_totals
        on side_totals.store_code = days.store_code
        and side_totals.campaign_id = days.campaign_id
        and side_totals.side = days.side
    left join returns_by_day
        on returns_by_day.store_code = days.store_code
        and returns_by_day.campaign_id = days.campaign_id
        and returns_by_day.side = days.side
        and returns_by_day.return_day = days.day_offset
    window cumulative as (
        partition by days.store_code, days.campaign_id, days.side
        order by days.day_offset
        rows between unbounded preceding and current row
    )
)

select * from final
