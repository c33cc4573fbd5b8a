-- One row per scope (store, region, group), month end and destination (SPEC
-- section 7): where the reached survey responses say the car was serviced
-- instead (维修去向). Each reached response has one destination, so the shares
-- of one scope-month add up to 1. A destination no response gave has no row.
with

responses as (
    select * from {{ ref('int_survey_responses_classified') }}
    where reached
),

stores_scoped as (
    select * from {{ ref('int_stores_scoped') }}
),

-- The denominator: every reached response of the scope-month, once.
scope_months as (
    select * from {{ ref('int_surveys_aggregated_to_scope_months') }}
),

response_destinations as (
    select
        store_code,
        response_id,
        month_end,
        coalesce(nullif(trim(serviced_at), ''), 'unknown') as destination,
        is_serviced_elsewhere,
        is_confirmed_lost
    from responses
),

counted as (
    select
        stores_scoped.scope_level,
        stores_scoped.scope_code,
        response_destinations.month_end,
        response_destinations.destination,
        count(*) as responses,
        count(*) filter (where response_destinations.is_confirmed_lost) as confirmed_lost,
        -- The same for every response of a destination: it is the destination's.
        bool_or(response_destinations.is_serviced_elsewhere) as is_elsewhere
    from response_destinations
    inner join stores_scoped
        on stores_scoped.store_code = response_destinations.store_code
    group by
        stores_scoped.scope_level,
        stores_scoped.scope_code,
        response_destinations.month_end,
        response_destinations.destination
),

final as (
    select
        counted.scope_level,
        counted.scope_code,
        counted.month_end,
        counted.destination,
        counted.is_elsewhere,
        counted.responses,
        scope_months.reached_surveys,
        {{ safe_divide('counted.responses', 'scope_months.reached_surveys') }} as destination_share,
        counted.confirmed_lost
    from counted
    inner join scope_months
        on scope_months.scope_level = counted.scope_level
        and scope_months.scope_code = counted.scope_code
        and scope_months.month_end = counted.month_end
)

select * from final
