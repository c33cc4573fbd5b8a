-- One row per VIN x month end at group level (SPEC section 2): the same VIN at
-- two stores of the group is one group customer, whose last visit is its last
-- visit at any store; a move to a sibling store is not a loss to the group.
-- The owner and vehicle attributes are those of the store of the last visit.
-- Incremental: a build replaces the customer-months whose row changed, and
-- those of the months whose as-of date it moves.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    on_schema_change='fail',
    incremental_predicates=['(' ~ in_changed_customer_months(scope_level="'group'", scope_code="'" ~ var('group_code') ~ "'") ~ ') or ' ~ in_months_of_the_data_date()],
) }}
with

customer_months as (
    {%- if is_incremental() %}
    {{ rows_where(ref('int_customer_months_classified'), "scope_level = 'group' and (" ~ in_changed_customer_months() ~ " or " ~ in_months_of_the_data_date() ~ ")",
                 few=not build_recomputes_whole_months()) }}
    {%- else %}
    select * from {{ ref('int_customer_months_classified') }}
    where scope_level = 'group'
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
        customer_months.vin,
        customer_months.month_end,
        customer_months.last_store_code,
        stores.region as last_region,
        {{ customer_month_columns('customer_months') }}
    from customer_months
    cross join data_dates
    left join stores on stores.store_code = customer_months.last_store_code
)

select * from final
{{ stored_in_order_of('month_end') }}
