-- One row per VIN x month end at group level (SPEC section 2): the same VIN at
-- two stores of the group is one group customer, whose last visit is its last
-- visit at any store; a move to a sibling store is not a loss to the group.
-- The owner and vehicle attributes are those of the store of the last visit.
-- A view, like fct_customer_month: over fct_group_customer_month_stored for
-- the vehicles seen at several stores, and over fct_customer_month_stored for
-- the others, whose one store row is their group customer-month too
-- (stands_for_its_scopes; docs/decisions.md, "A one-store vehicle's group
-- customer-months are its store rows").
{{ config(materialized=moving_columns_materialized()) }}
with

stored as (
    select * from {{ without_database(ref('fct_group_customer_month_stored')) }}
),

store_stored as (
    select * from {{ without_database(ref('fct_customer_month_stored')) }}
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
    union all
    select
        store_stored.vin,
        store_stored.month_end,
        store_stored.store_code as last_store_code,
        store_stored.region as last_region,
        {{ customer_month_columns('store_stored') }}
    from store_stored
    cross join data_date
    where store_stored.stands_for_its_scopes
)

select * from final
