-- One row per scope (store, region, group) and month end with any survey
-- response (SPEC section 7): the month's surveys, the confirmed lost, and the
-- win-back rate, counted at the month of the survey. Each response belongs to
-- one store, so summing through int_stores_scoped rolls up without double
-- counting. The KPI roll-up marts left-join this.
with

responses as (
    select * from {{ ref('int_survey_responses_classified') }}
),

stores_scoped as (
    select * from {{ ref('int_stores_scoped') }}
),

counted as (
    select
        stores_scoped.scope_level,
        stores_scoped.scope_code,
        responses.month_end,
        count(*) as surveys,
        count(*) filter (where responses.reached) as reached_surveys,
        count(*) filter (where responses.is_confirmed_lost) as confirmed_lost,
        count(*) filter (where responses.reached and responses.is_insurer_assigned_only) as insurer_assigned_only,
        count(*) filter (where responses.reached and responses.win_back_booked) as win_back_booked,
        count(*) filter (where responses.is_win_back_eligible) as win_back_eligible,
        count(*) filter (where responses.is_won_back) as won_back_after_survey,
        count(*) filter (where responses.is_win_back_pending) as win_back_pending
    from responses
    inner join stores_scoped
        on stores_scoped.store_code = responses.store_code
    group by stores_scoped.scope_level, stores_scoped.scope_code, responses.month_end
),

final as (
    select
        *,
        {{ safe_divide('won_back_after_survey', 'win_back_eligible') }} as win_back_rate,
        {{ safe_divide('confirmed_lost', 'reached_surveys') }} as confirmed_lost_rate
    from counted
)

select * from final
