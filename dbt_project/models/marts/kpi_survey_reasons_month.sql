-- One row per scope (store, region, group), month end and reason (SPEC
-- section 7): the reached survey responses that gave the reason. A response
-- counts once under each distinct reason it gives, so the shares of one
-- scope-month can add up to more than 1; a reached response with no reason
-- counts under 'none_given'. A reason no response gave has no row.
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

response_reasons as (
    select
        store_code,
        response_id,
        month_end,
        is_confirmed_lost,
        {{ unnest_list('case when ' ~ list_length('reason_list') ~ ' = 0 then ' ~ list_of(["'none_given'"]) ~ ' else reason_list end') }}
            as reason
    from responses
),

counted as (
    select
        stores_scoped.scope_level,
        stores_scoped.scope_code,
        response_reasons.month_end,
        response_reasons.reason,
        count(*) as responses,
        count(*) filter (where response_reasons.is_confirmed_lost) as confirmed_lost_responses
    from response_reasons
    inner join stores_scoped
        on stores_scoped.store_code = response_reasons.store_code
    group by stores_scoped.scope_level, stores_scoped.scope_code, response_reasons.month_end, response_reasons.reason
),

final as (
    select
        counted.scope_level,
        counted.scope_code,
        counted.month_end,
        counted.reason,
        counted.responses,
        scope_months.reached_surveys,
        {{ safe_divide('counted.responses', 'scope_months.reached_surveys') }} as reason_share,
        counted.confirmed_lost_responses
    from counted
    inner join scope_months
        on scope_months.scope_level = counted.scope_level
        and scope_months.scope_code = counted.scope_code
        and scope_months.month_end = counted.month_end
)

select * from final
