-- One row per store and customer id, latest version. Personal fields are
-- replaced by a pseudonym and masked forms here (SPEC section 9).
-- Incremental: a build recomputes the owner records with a version loaded or
-- replaced since the last completed build.
-- depends_on: {{ ref('int_build_window') }}
{%- set touched = in_touched_keys('dms_customers', ['store_code', 'customer_id']) %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    on_schema_change='fail',
    incremental_predicates=[touched],
) }}
with

source as {{ cte_not_materialized() }} (
    select * from {{ source('dms', 'customers') }}
    {%- if is_incremental() %}
    where {{ touched }}
    {%- endif %}
),

latest as (
    {{ latest_version('source', ['store_code', 'customer_id']) }}
),

final as (
    select
        store_code,
        customer_id,
        {{ pseudonym("store_code || '|' || customer_id") }} as customer_key,
        {{ mask_name('name') }} as name_masked,
        {{ mask_phone('phone') }} as phone_masked,
        gender,
        year(birth_date) as birth_year,
        occupation,
        customer_type,
        district,
        city,
        created_at,
        updated_at
    from latest
)

select * from final
