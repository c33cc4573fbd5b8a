-- One row per landing file load (raw.load_log): loaded or rejected, with its
-- source (dms, insurance, survey, crm, reference), store and drop date. The
-- freshness mart and the data date read the landing's arrivals from here.
-- A rejection's message may quote the file's first line (a header that names
-- no known column): that quote is cut here, since a file delivered without
-- its header would put a customer's row in it (SPEC section 9).
with

load_log as (
    select * from {{ source('reference', 'load_log') }}
),

cut as (
    select
        *,
        regexp_replace(message, ' in header .*$', ' in its header') as message_cut
    from load_log
),

final as (
    select
        source_file,
        table_name,
        split_part(table_name, '_', 1) as source,
        store_code,
        drop_date,
        status,
        message_cut as message,
        -- the problem alone, without the file's path the message starts with
        case
            when {{ text_starts_with('message_cut', "source_file || ': '") }} then substr(message_cut, length(source_file) + 3)
            else message_cut
        end as reason,
        rows_read,
        rows_loaded,
        rows_quarantined,
        loaded_at
    from cut
)

select * from final
