-- One row per store and survey response (SPEC sections 6 and 7): what the
-- response says (reasons, destination), the customer's churn status on the
-- survey date, whether it confirms a lost customer, and whether a visit
-- followed within the win-back window. The survey marts and the win-back
-- rate all count these flags, so each rule is decided here once.
-- Incremental: a build classifies again the responses of the changed
-- vehicles and those whose win-back window the moved data date reaches
-- (in_reclassified_survey_responses); a full build classifies every one.
-- depends_on: {{ ref('int_build_window') }}
-- depends_on: {{ ref('int_vins_changed') }}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    written_rows='int_survey_responses_classified_written',
    on_schema_change='fail',
    incremental_predicates=[in_reclassified_survey_responses()],
) }}
with

responses as (
    select * from {{ ref('stg_survey__responses') }}
    {%- if is_incremental() %}
    where {{ in_reclassified_survey_responses() }}
    {%- endif %}
),

visits as (
    select * from {{ ref('int_visits_aggregated_to_days') }}
),

vehicles as (
    select * from {{ ref('int_vehicles_ruled') }}
),

data_dates as (
    select * from {{ ref('stg_reference__data_dates') }}
),

responses_dated as (
    select
        store_code,
        response_id,
        vin,
        customer_id,
        survey_date,
        cast(last_day(survey_date) as date) as month_end,
        method,
        reached,
        serviced_at,
        reason_list,
        win_back_booked
    from responses
),

-- L = the last visit at the same store on or before the survey date; the next
-- visit = the first one strictly after it.
visit_bounds as (
    select
        responses_dated.store_code,
        responses_dated.response_id,
        max(visits.visit_date) filter (where visits.visit_date <= responses_dated.survey_date) as last_visit_date,
        min(visits.visit_date) filter (where visits.visit_date > responses_dated.survey_date) as next_visit_date
    from responses_dated
    inner join visits
        on visits.store_code = responses_dated.store_code
        and visits.vin = responses_dated.vin
    group by responses_dated.store_code, responses_dated.response_id
),

with_visits as (
    select
        responses_dated.*,
        visit_bounds.last_visit_date,
        visit_bounds.next_visit_date,
        coalesce(vehicles.at_risk_after_months, {{ var('default_at_risk_after_months') }}) as at_risk_after_months,
        coalesce(vehicles.churned_after_months, {{ var('default_churned_after_months') }}) as churned_after_months,
        responses_dated.survey_date + {{ var('win_back_window_days') }} as win_back_window_end
    from responses_dated
    left join visit_bounds
        on visit_bounds.store_code = responses_dated.store_code
        and visit_bounds.response_id = responses_dated.response_id
    left join vehicles
        on vehicles.store_code = responses_dated.store_code
        and vehicles.vin = responses_dated.vin
),

-- SPEC section 6 at D = survey date; calendar months, end of month clamped
-- (Aug 31 + 6 months = Feb 28/29), exactly as fct_customer_month.
classified as (
    select
        *,
        case
            when last_visit_date is not null then {{ churn_status_at(
                'survey_date',
                add_months('last_visit_date', 'at_risk_after_months'),
                add_months('last_visit_date', 'churned_after_months'),
            ) }}
        end as status_at_survey,
        coalesce({{ is_serviced_elsewhere('serviced_at') }}, false) as is_serviced_elsewhere,
        reason_list = {{ list_of(["'insurer_assigned'"]) }} as is_insurer_assigned_only
    from with_visits
),

flagged as (
    select
        classified.*,
        -- SPEC 7; seed 000: a car the insurer sent elsewhere is not lost.
        reached and is_serviced_elsewhere and not is_insurer_assigned_only as is_confirmed_lost,
        reached and coalesce(status_at_survey in ('at_risk', 'churned'), false) as is_win_back_eligible,
        data_dates.data_as_of_date
    from classified
    cross join data_dates
),

final as (
    select
        store_code,
        response_id,
        vin,
        customer_id,
        survey_date,
        month_end,
        method,
        reached,
        serviced_at,
        reason_list,
        win_back_booked,
        last_visit_date,
        at_risk_after_months,
        churned_after_months,
        status_at_survey,
        is_serviced_elsewhere,
        is_insurer_assigned_only,
        is_confirmed_lost,
        is_win_back_eligible,
        next_visit_date,
        win_back_window_end,
        -- A visit on day 90 after the survey counts, day 91 does not.
        is_win_back_eligible
            and coalesce(next_visit_date <= win_back_window_end, false) as is_won_back,
        -- Not won back yet, but the window runs past the last data date.
        is_win_back_eligible
            and not coalesce(next_visit_date <= win_back_window_end, false)
            and win_back_window_end > data_as_of_date as is_win_back_pending
    from flagged
)

select * from final
