-- One row per store x VIN x month end (SPEC sections 6 and 10): the month's
-- visits and money and the customer's churn status as of the month's end (or,
-- for the month the data runs into, as of the last data date), with what
-- explains it and the attributes the breakdowns group by. A customer is a
-- vehicle served by a store (SPEC section 2).
-- Incremental: a build replaces the customer-months whose row changed, and
-- those of the months whose as-of date it moves.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    on_schema_change='fail',
    incremental_predicates=['(' ~ in_changed_customer_months(scope_level="'store'", scope_code='store_code') ~ ') or ' ~ in_months_of_the_data_date()],
) }}
with

customer_months as (
    {%- if is_incremental() %}
    {{ rows_where(ref('int_customer_months_classified'), "scope_level = 'store' and (" ~ in_changed_customer_months() ~ " or " ~ in_months_of_the_data_date() ~ ")",
                 few=not build_recomputes_whole_months()) }}
    {%- else %}
    select * from {{ ref('int_customer_months_classified') }}
    where scope_level = 'store'
    {%- endif %}
),

stores as (
    select * from {{ ref('stg_reference__stores') }}
),

data_dates as (
    select * from {{ ref('stg_reference__data_dates') }}
),

final as (
    select
        customer_months.scope_code as store_code,
        stores.region,
        customer_months.vin,
        customer_months.month_end,
        {{ customer_month_columns('customer_months') }}
    from customer_months
    cross join data_dates
    left join stores on stores.store_code = customer_months.scope_code
)

select * from final
{{ stored_in_order_of('month_end') }}
