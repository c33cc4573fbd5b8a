-- Incremental: a build recomputes the responses with a version loaded or
-- replaced since the last completed build.
-- depends_on: {{ ref('int_build_window') }}
{%- set touched = in_touched_keys('survey_responses', ['store_code', 'response_id']) %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    on_schema_change='fail',
    incremental_predicates=[touched],
) }}
with

source as {{ cte_not_materialized() }} (
    select * from {{ source('survey', 'responses') }}
    {%- if is_incremental() %}
    where {{ touched }}
    {%- endif %}
),

latest as (
    {{ latest_version('source', ['store_code', 'response_id']) }}
),

final as (
    select
        store_code,
        response_id,
        customer_id,
        vin,
        surveyed_at,
        cast(surveyed_at as date) as survey_date,
        method,
        coalesce(reached, false) as reached,
        current_mileage_km,
        maintains_regularly,
        serviced_at,
        reasons,
        -- Each reason once, sorted, blanks dropped: a response counts once per
        -- reason (SPEC section 7), and 'insurer_assigned;insurer_assigned' is
        -- still insurer-assigned only.
        array_sort(array_distinct(filter(
            {{ split_text("coalesce(reasons, '')", "';'") }}, reason -> trim(reason) <> ''
        ))) as reason_list,
        coalesce(win_back_booked, false) as win_back_booked,
        updated_at
    from latest
)

select * from final
