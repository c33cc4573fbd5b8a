-- The group rows of the vehicles seen at several stores (one row per VIN x
-- month end), less the columns that move with the data date, which
-- fct_group_customer_month adds (customer_month_columns.sql says why). The
-- group rows of a vehicle seen at one store only are its store rows
-- (stands_for_its_scopes): that view reads them from fct_customer_month_stored,
-- so they are stored once, not twice (docs/decisions.md, "A one-store
-- vehicle's group customer-months are its store rows").
-- Incremental: a build replaces the customer-months whose row changed,
-- reading their new rows from what int_customer_months_classified wrote
-- (int_customer_months_written), not from all its rows.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    written_rows='fct_group_customer_month_stored_written',
    on_schema_change='fail',
    incremental_predicates=[in_changed_customer_months(scope_level="'group'", scope_code="'" ~ var('group_code') ~ "'")],
) }}
with

customer_months as (
    {%- if is_incremental() and not build_is_full() %}
    select * from {{ written_customer_months() }}
    where scope_level = 'group'
    {%- else %}
    select * from {{ ref('int_customer_months_classified') }}
    where scope_level = 'group'
    {%- endif %}
),

stores as (
    select * from {{ ref('stg_reference__stores') }}
),

final as (
    select
        customer_months.vin,
        customer_months.month_end,
        customer_months.last_store_code,
        stores.region as last_region,
        {{ customer_month_stored_columns('customer_months') }}
    from customer_months
    left join stores on stores.store_code = customer_months.last_store_code
)

select * from final
{{ stored_in_order_of('month_end') }}
