-- One row per quarantined landing row (raw.quarantine, SPEC section 4): its
-- file, store, drop date and line, and why it was quarantined as a
-- value-free reason. The raw line and the loader's detailed reason stay in
-- raw: they quote the delivered values, which may be private (SPEC section 9).
-- Each problem of a row ("payer: cannot read 'x' as a payer value; vin:
-- invalid VIN 'y' ...") becomes a fixed label ("payer: unknown enumeration",
-- "vin: invalid VIN"); the labels of a row are joined with '; ' in order.
with

quarantine as (
    select * from {{ source('reference', 'quarantine') }}
),

problems as (
    select
        source_file,
        line_number,
        {{ unnest_list(split_text('reason', "'; '")) }} as problem
    from quarantine
),

labelled as (
    select
        source_file,
        line_number,
        regexp_extract(problem, '^([a-z_]+): ', 1) as column_name,
        case
            when {{ text_starts_with('problem', "'unreadable CSV line'") }} then 'unreadable CSV line'
            when {{ text_matches('problem', "'^[a-z_]+: required value missing$'") }} then 'required value missing'
            when {{ text_matches('problem', "'^[a-z_]+: cannot read .* as an? [a-z_]+ value$'") }}
                or {{ text_matches('problem', "'^[a-z_]+: cannot read .* as a '';''-separated list of [a-z_]+ values$'") }}
                then 'unknown enumeration'
            when {{ text_matches('problem', "'^[a-z_]+: cannot read '") }} then 'unparseable value'
            when {{ text_matches('problem', "'^[a-z_]+: negative amount '") }} then 'negative amount'
            when {{ text_starts_with('problem', "'vin: invalid VIN '") }} then 'invalid VIN'
            when {{ text_matches('problem', "'^[a-z_]+: .* is after the drop date '") }} then 'date after the drop date'
            when {{ text_matches('problem', "'^store_code: .* does not match the drop folder '") }} then 'not the drop folder''s store'
            when {{ text_matches('problem', "'^total_amount: .* <> labor \+ parts \+ other - discount = '") }} then 'total mismatch'
            else 'other problem'
        end as kind
    from problems
),

reasons as (
    select
        source_file,
        line_number,
        {% set problem_label -%}
            case
                when kind in ('unreadable CSV line', 'other problem') or column_name = '' then kind
                else column_name || ': ' || kind
            end
        {%- endset -%}
        {{ join_list('array_sort(array_agg(distinct ' ~ problem_label ~ '))', "'; '") }} as reason
    from labelled
    group by source_file, line_number
),

final as (
    select
        quarantine.source_file,
        quarantine.line_number,
        quarantine.table_name,
        split_part(quarantine.table_name, '_', 1) as source,
        quarantine.store_code,
        quarantine.drop_date,
        reasons.reason,
        quarantine.loaded_at
    from quarantine
    left join reasons
        on reasons.source_file = quarantine.source_file
        and reasons.line_number is not distinct from quarantine.line_number
)

select * from final
