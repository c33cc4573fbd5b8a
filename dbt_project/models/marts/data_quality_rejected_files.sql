-- Landing files that are rejected now (SPEC section 4: unknown encoding,
-- missing required column, not a CSV), one row per file, for the
-- data-quality page. A file stops being rejected when a good version of it is
-- loaded. When an earlier good version was loaded, its rows stay in raw
-- (kept_earlier_version).
with

file_loads as (
    select * from {{ ref('stg_reference__file_loads') }}
),

rejected as (
    select * from file_loads
    where status = 'rejected'
),

loaded as (
    select distinct source_file from file_loads
    where status = 'loaded'
),

final as (
    select
        rejected.source_file,
        rejected.store_code,
        rejected.source,
        rejected.table_name,
        rejected.drop_date,
        rejected.reason,
        loaded.source_file is not null as kept_earlier_version,
        rejected.loaded_at as logged_at
    from rejected
    left join loaded on loaded.source_file = rejected.source_file
)

select * from final
