-- One row per store, RO and line number, latest version.
-- Incremental: a build recomputes the lines with a version loaded or replaced
-- since the last completed build.
-- depends_on: {{ ref('int_build_window') }}
{%- set touched = in_touched_keys('dms_repair_order_lines', ['store_code', 'ro_number', 'line_no']) %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    written_rows='stg_dms__repair_order_lines_written',
    on_schema_change='fail',
    incremental_predicates=[touched],
) }}
with

source as {{ cte_not_materialized() }} (
    select * from {{ source('dms', 'repair_order_lines') }}
    {%- if is_incremental() %}
    where {{ touched }}
    {%- endif %}
),

latest as (
    {{ latest_version('source', ['store_code', 'ro_number', 'line_no']) }}
),

final as (
    select
        store_code,
        ro_number,
        line_no,
        line_type,
        item_code,
        description,
        quantity,
        labor_hours,
        unit_price,
        amount,
        cost,
        updated_at
    from latest
)

select * from final
