-- One row per scope (each store, each region, the group) x month end: the
-- KPIs of kpi_store_month rolled up. At region and group level a vehicle seen
-- at several stores of the scope is one customer (SPEC section 2), so the
-- store rows do not simply add up to the region's.
with

scope_months as (
    select * from {{ ref('int_kpis_aggregated_to_scope_months') }}
),

final as (
    select * from scope_months
)

select * from final
