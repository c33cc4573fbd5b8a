-- One row per store x drop source (dms, insurance, survey): the last drop
-- received and loaded, and whether it is late (SPEC sections 1 and 3: a
-- missing folder means the store sent nothing that day, a freshness problem
-- to report, not an error). Late = the last loaded drop is
-- freshness_late_after_days (1) or more days before the data date, the latest
-- date any store delivered; a store that never delivered is late too. A
-- rejected drop does not count as received.
-- crm is not listed: a store sends crm drops only on days it has campaign
-- rows, so a missing crm drop is normal (docs/decisions.md).
with

file_loads as (
    select * from {{ ref('stg_reference__file_loads') }}
    where store_code is not null
),

stores as (
    select * from {{ ref('stg_reference__stores') }}
),

data_dates as (
    select * from {{ ref('stg_reference__data_dates') }}
),

drop_sources as (
    select * from (values ('dms'), ('insurance'), ('survey')) as drop_sources (source)
),

received as (
    select
        store_code,
        source,
        max(drop_date) filter (where status = 'loaded') as last_drop_date,
        max(loaded_at) filter (where status = 'loaded') as last_loaded_at,
        max(drop_date) filter (where status = 'rejected') as last_rejected_drop_date
    from file_loads
    group by store_code, source
),

final as (
    select
        stores.store_code,
        drop_sources.source,
        received.last_drop_date,
        received.last_loaded_at,
        received.last_rejected_drop_date,
        data_dates.data_as_of_date,
        cast({{ days_between('data_dates.data_as_of_date', 'received.last_drop_date') }} as integer) as days_behind,
        coalesce(
            {{ days_between('data_dates.data_as_of_date', 'received.last_drop_date') }} >= {{ var('freshness_late_after_days') }},
            true
        ) as is_late
    from stores
    cross join drop_sources
    cross join data_dates
    left join received
        on received.store_code = stores.store_code
        and received.source = drop_sources.source
)

select * from final
