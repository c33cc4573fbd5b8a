-- One row per VIN x month end at group level (SPEC section 2): the same VIN at
-- two stores of the group is one group customer, whose last visit is its last
-- visit at any store; a move to a sibling store is not a loss to the group.
-- The owner and vehicle attributes are those of the store of the last visit.
-- A view over fct_group_customer_month_stored, like fct_customer_month.
{{ config(materialized=moving_columns_materialized()) }}
with

stored as (
    select * from {{ without_database(ref('fct_group_customer_month_stored')) }}
),

data_date as (
    select * from {{ without_database(ref('data_date')) }}
),

final as (
    select
        stored.vin,
        stored.month_end,
        stored.last_store_code,
        stored.last_region,
        {{ customer_month_columns('stored') }}
    from stored
    cross join data_date
)

select * from final
