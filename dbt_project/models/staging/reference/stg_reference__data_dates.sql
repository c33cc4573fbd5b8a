-- The date the data runs to: the latest business date with a loaded drop.
-- Months after it do not exist yet; the month holding it is measured as of it.
with

load_log as (
    select * from {{ source('reference', 'load_log') }}
),

final as (
    select max(drop_date) as data_as_of_date
    from load_log
    where status = 'loaded' and drop_date is not null
)

select * from final
