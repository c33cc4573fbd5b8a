-- One row per store and VIN, latest version: the vehicle as the store knows
-- it now, with its current owner. The plate stays in raw (SPEC section 9).
-- Incremental: a build recomputes the vehicles with a version loaded or
-- replaced since the last completed build.
-- depends_on: {{ ref('int_build_window') }}
{%- set touched = in_touched_keys('dms_vehicles', ['store_code', 'vin']) %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    on_schema_change='fail',
    incremental_predicates=[touched],
) }}
with

source as {{ cte_not_materialized() }} (
    select * from {{ source('dms', 'vehicles') }}
    {%- if is_incremental() %}
    where {{ touched }}
    {%- endif %}
),

latest as (
    {{ latest_version('source', ['store_code', 'vin']) }}
),

final as (
    select
        store_code,
        vin,
        customer_id,
        brand,
        model,
        model_year,
        purchase_date,
        coalesce(sold_by_store, false) as sold_by_store,
        updated_at
    from latest
)

select * from final
