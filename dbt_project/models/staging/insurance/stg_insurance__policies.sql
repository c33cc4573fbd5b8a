-- Incremental: a build recomputes the policies with a version loaded or
-- replaced since the last completed build.
-- depends_on: {{ ref('int_build_window') }}
{%- set touched = in_touched_keys('insurance_policies', ['policy_no']) %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    on_schema_change='fail',
    incremental_predicates=[touched],
) }}
with

source as {{ cte_not_materialized() }} (
    select * from {{ source('insurance', 'policies') }}
    {%- if is_incremental() %}
    where {{ touched }}
    {%- endif %}
),

latest as (
    {{ latest_version('source', ['policy_no']) }}
),

final as (
    select
        policy_no,
        store_code,
        vin,
        insurer,
        policy_type,
        start_date,
        end_date,
        premium,
        coalesce(sold_by_store, false) as sold_by_store,
        coalesce(is_renewal, false) as is_renewal,
        updated_at
    from latest
)

select * from final
