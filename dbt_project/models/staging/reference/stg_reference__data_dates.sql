-- The date the data runs to: the latest business date with a loaded drop.
-- Months after it do not exist yet; the month holding it is measured as of it.
with

file_loads as (
    select * from {{ ref('stg_reference__file_loads') }}
),

final as (
    select max(drop_date) as data_as_of_date
    from file_loads
    where status = 'loaded' and drop_date is not null
)

select * from final
