-- One row: the last data date, the as-of date of the month the data runs into
-- (SPEC section 7). The customer-month marts derive their as-of date from it.
with

data_dates as (
    select * from {{ ref('stg_reference__data_dates') }}
),

final as (
    select data_as_of_date from data_dates
)

select * from final
