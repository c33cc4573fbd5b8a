-- One row per store, VIN and visit date (进厂台次, SPEC section 5): the
-- qualifying ROs of that day collapsed into one visit, with the money of its
-- revenue ROs. Annual spend is per scope (int_vehicle_visits_scoped).
-- Incremental: a build recomputes the visits of the changed vehicles.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    written_rows='int_visits_aggregated_to_days_written',
    on_schema_change='fail',
    incremental_predicates=[in_changed_vins()],
) }}
with

repair_orders as (
    select * from {{ ref('stg_dms__repair_orders') }}
    where is_qualifying
    {%- if is_incremental() %}
        and ({{ in_changed_vins() }})
    {%- endif %}
),

days as (
    select
        store_code,
        vin,
        visit_date,
        count(*) as qualifying_ros,
        bool_or(is_revenue) as is_paid_visit,
        cast(coalesce(sum(total_amount) filter (where is_revenue), 0) as decimal(18, 2)) as revenue,
        cast(coalesce(sum(labor_amount) filter (where is_revenue), 0) as decimal(18, 2)) as labor_amount,
        cast(coalesce(sum(parts_amount) filter (where is_revenue), 0) as decimal(18, 2)) as parts_amount,
        cast(coalesce(sum(parts_cost) filter (where is_revenue), 0) as decimal(18, 2)) as parts_cost,
        max(mileage_km) as mileage_km,
        {{ value_of_last('service_type', ['opened_at', 'ro_number']) }} as service_type,
        max(opened_at) as last_opened_at
    from repair_orders
    group by store_code, vin, visit_date
),

final as (
    select * from days
)

select * from final
