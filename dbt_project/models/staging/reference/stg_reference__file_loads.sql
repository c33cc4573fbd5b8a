-- One row per landing file load (raw.load_log): loaded or rejected, with its
-- source (dms, insurance, survey, reference), store and drop date. The
-- freshness mart and the data date read the landing's arrivals from here.
with

load_log as (
    select * from {{ source('reference', 'load_log') }}
),

final as (
    select
        source_file,
        table_name,
        split_part(table_name, '_', 1) as source,
        store_code,
        drop_date,
        status,
        message,
        rows_read,
        rows_loaded,
        rows_quarantined,
        loaded_at
    from load_log
)

select * from final
