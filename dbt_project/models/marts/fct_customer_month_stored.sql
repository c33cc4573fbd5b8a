-- The rows of fct_customer_month (one row per store x VIN x month end), less
-- the columns that move with the data date, which that view adds
-- (customer_month_columns.sql says why).
-- Incremental: a build replaces the customer-months whose row changed,
-- reading their new rows from what int_customer_months_classified wrote
-- (int_customer_months_written), not from all its rows.
-- stands_for_its_scopes marks the rows of vehicles seen at this store only:
-- they are also their group customer-months, which fct_group_customer_month
-- reads from here (fct_group_customer_month_stored holds the others).
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    written_rows='fct_customer_month_stored_written',
    on_schema_change='fail',
    incremental_predicates=[in_changed_customer_months(scope_level="'store'", scope_code='store_code')],
) }}
with

customer_months as (
    {%- if is_incremental() and not build_is_full() %}
    select * from {{ written_customer_months() }}
    where scope_level = 'store'
    {%- else %}
    select * from {{ ref('int_customer_months_classified') }}
    where scope_level = 'store'
    {%- endif %}
),

stores as (
    select * from {{ ref('stg_reference__stores') }}
),

final as (
    select
        customer_months.scope_code as store_code,
        stores.region,
        customer_months.vin,
        customer_months.month_end,
        {{ customer_month_stored_columns('customer_months') }},
        customer_months.stands_for_its_scopes
    from customer_months
    left join stores on stores.store_code = customer_months.scope_code
)

select * from final
{{ stored_in_order_of('month_end') }}
