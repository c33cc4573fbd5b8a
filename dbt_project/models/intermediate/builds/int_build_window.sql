-- One row: what this build recomputes (docs/decisions.md, "Incremental
-- builds"). The last build that completed (int_builds_completed) had seen the
-- raw rows loaded up to its loaded_through and the data up to its
-- data_as_of_date. This build recomputes, in the incremental models:
--   * the months of the vehicles whose raw rows were loaded or replaced since
--     that their changes reach (int_vins_changed): a repair order closed
--     today changes the month it was opened in and the six before it, a
--     survey the months after it, an owner's record every month;
--   * the months of that data date's month of the vehicles whose row there
--     the moved data date changes (int_vins_due: a threshold crossed);
--   * every customer's months after it, when the data date enters a new month;
--   * every customer's row of that month, where a mart shows or counts by the
--     as-of date, when the data date moved (as_of_moved_from_month_end).
-- Everything is recomputed (is_full_rebuild) when there is no completed build
-- to start from, when the previous build did not complete (a model may have
-- been updated without the ones that follow it), on --full-refresh, when an
-- incremental model's table is missing, and when the fingerprint changes: the
-- models, seeds, vars, pseudonym key or stores.
{%- set previous_window = adapter.get_relation(this.database, this.schema, this.identifier) if execute else none %}
{%- set completed = adapter.get_relation(this.database, this.schema, 'int_builds_completed') if execute else none %}
{%- set fingerprint_parts = [var('code_version', ''), env_var('AFTERSALES_PSEUDONYM_KEY', '')] %}
{%- set missing_tables = [] %}
{%- if execute %}
    {%- for node in graph.nodes.values() | sort(attribute='unique_id') if node.resource_type in ('model', 'seed') %}
        {%- do fingerprint_parts.append(node.unique_id ~ ':' ~ node.checksum.checksum) %}
        {%- if node.config.materialized == 'incremental'
            and adapter.get_relation(node.database, node.schema, node.alias) is none %}
            {%- do missing_tables.append(node.name) %}
        {%- endif %}
    {%- endfor %}
{%- endif %}
{%- set forced_full = flags.FULL_REFRESH or missing_tables | length > 0 %}
with

file_loads as (
    select * from {{ ref('stg_reference__file_loads') }}
),

data_dates as (
    select * from {{ ref('stg_reference__data_dates') }}
),

stores as (
    select * from {{ ref('stg_reference__stores') }}
),

this_build as (
    select
        '{{ invocation_id }}' as build_id,
        (select max(loaded_at) from file_loads) as loaded_through,
        data_dates.data_as_of_date,
        -- The job reads it to build changed code with --full-refresh (orchestration/build_code.py).
        '{{ var('code_version', '') }}' as code_version,
        -- The code's part is hashed here; the stores' part (scopes) in SQL.
        md5('{{ local_md5(fingerprint_parts | join("|")) }}|' || (
            select coalesce({{ ordered_string_agg("concat_ws('|', store_code, region, brand)", "','", 'store_code') }}, '')
            from stores
        )) as fingerprint
    from data_dates
),

previous_build as (
    {%- if previous_window is not none and completed is not none %}
    select previous_window.*
    from {{ previous_window }} as previous_window
    where previous_window.build_id in (select build_id from {{ completed }})
    {%- else %}
    select
        null::string as build_id,
        null::timestamp as loaded_through,
        null::date as data_as_of_date,
        null::string as fingerprint
    where false
    {%- endif %}
),

window_start as (
    select
        this_build.*,
        previous_build.loaded_through as changes_loaded_after,
        previous_build.data_as_of_date as previous_data_as_of_date,
        {{ 'true' if forced_full else 'false' }}
            or previous_build.build_id is null
            or previous_build.fingerprint <> this_build.fingerprint as is_full_rebuild
    from this_build
    left join previous_build on true
),

window_months as (
    select
        *,
        case
            when is_full_rebuild then date '0001-01-31'
            else cast(last_day(previous_data_as_of_date) as date)
        end as rebuild_from_month_end
    from window_start
),

final as (
    select
        *,
        -- The first month whose as-of date this build moves: that month when
        -- the data date moved, every month on a full rebuild, and none (a date
        -- after every month, so that `month_end >=` it is false, never null)
        -- when the data date did not move: a late store's drop of a day
        -- another store already delivered.
        case
            when is_full_rebuild or data_as_of_date is distinct from previous_data_as_of_date
                then rebuild_from_month_end
            else date '9999-12-31'
        end as as_of_moved_from_month_end
    from window_months
)

select * from final
