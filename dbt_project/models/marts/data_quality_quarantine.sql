-- Quarantined landing rows counted per store, source, table, drop date and
-- reason (SPEC section 4), for the data-quality page. No raw line, no value:
-- the reasons are value-free labels (stg_reference__quarantined_rows); the
-- rows themselves, with file, line number and raw line, are in raw.quarantine.
with

quarantined_rows as (
    select * from {{ ref('stg_reference__quarantined_rows') }}
),

final as (
    select
        store_code,
        source,
        table_name,
        drop_date,
        reason,
        count(*) as rows,
        count(distinct source_file) as files,
        max(loaded_at) as last_loaded_at
    from quarantined_rows
    group by store_code, source, table_name, drop_date, reason
)

select * from final
