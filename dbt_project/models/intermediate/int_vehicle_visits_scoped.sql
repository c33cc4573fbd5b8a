-- One row per scope (store, region, group), VIN and visit date. A customer is
-- a vehicle within a scope (SPEC section 2): at store level the store's own
-- visits; at region and group level the vehicle's visits at any store of the
-- scope, a day at two stores being one visit. Annual spend and visits per
-- year are counted within the scope.
-- Incremental: a build recomputes the visits of the changed vehicles.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    written_rows='int_vehicle_visits_scoped_written',
    on_schema_change='fail',
    incremental_predicates=[in_changed_vins()],
) }}
with

visit_days as (
    select * from {{ ref('int_visits_aggregated_to_days') }}
    {%- if is_incremental() %}
    where {{ in_changed_vins() }}
    {%- endif %}
),

stores_scoped as (
    select * from {{ ref('int_stores_scoped') }}
),

scoped_days as (
    select
        stores_scoped.scope_level,
        stores_scoped.scope_code,
        visit_days.vin,
        visit_days.visit_date,
        -- The store of the day's latest RO: its records describe the customer.
        {{ value_of_last('visit_days.store_code', ['visit_days.last_opened_at', 'visit_days.store_code']) }} as store_code,
        bool_or(visit_days.is_paid_visit) as is_paid_visit,
        cast(sum(visit_days.revenue) as decimal(18, 2)) as revenue,
        cast(sum(visit_days.labor_amount) as decimal(18, 2)) as labor_amount,
        cast(sum(visit_days.parts_amount) as decimal(18, 2)) as parts_amount,
        cast(sum(visit_days.parts_cost) as decimal(18, 2)) as parts_cost,
        max(visit_days.mileage_km) as mileage_km,
        {{ value_of_last('visit_days.service_type', ['visit_days.last_opened_at', 'visit_days.store_code']) }}
            as service_type
    from visit_days
    inner join stores_scoped using (store_code)
    group by stores_scoped.scope_level, stores_scoped.scope_code, visit_days.vin, visit_days.visit_date
),

final as (
    select
        *,
        -- Annual spend (SPEC section 5): revenue in the 365 days ending at this
        -- visit, i.e. visit dates in (visit_date - 365 days, visit_date]; and
        -- the visits in the same window (年均回厂, the visits-per-year band).
        cast(sum(revenue) over year_to_visit as decimal(18, 2)) as annual_spend,
        count(*) over year_to_visit as visits_in_year
    from scoped_days
    window year_to_visit as (
        partition by scope_level, scope_code, vin
        order by visit_date
        range between interval 364 days preceding and current row
    )
)

select * from final
