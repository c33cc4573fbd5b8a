-- One row per store x VIN x month end (SPEC sections 6 and 10): the month's
-- visits and money and the customer's churn status as of the month's end (or,
-- for the month the data runs into, as of the last data date), with what
-- explains it and the attributes the breakdowns group by. A customer is a
-- vehicle served by a store (SPEC section 2).
-- A view: the stored rows (fct_customer_month_stored) with the as-of date and
-- the estimated mileage at it, which move with the data date every day
-- (customer_month_columns.sql).
{{ config(materialized=moving_columns_materialized()) }}
with

stored as (
    select * from {{ without_database(ref('fct_customer_month_stored')) }}
),

data_date as (
    select * from {{ without_database(ref('data_date')) }}
),

final as (
    select
        stored.store_code,
        stored.region,
        stored.vin,
        stored.month_end,
        {{ customer_month_columns('stored') }}
    from stored
    cross join data_date
)

select * from final
