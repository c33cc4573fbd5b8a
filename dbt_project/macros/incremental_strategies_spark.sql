{#- The warehouse's incremental strategies (incremental_strategies.sql) on
    Spark. dbt-spark's incremental materialization validates the strategy and
    asks these two macros for its SQL; the project's macros of the same names
    take their place (dbt looks in the root project before the adapter).

    A Parquet table cannot delete rows, so a part is replaced by writing the
    table anew: the rows outside the part this build recomputed, and the
    model's new rows, go into <table>__dbt_new, which then takes the table's
    name. The model's rows (a temporary view) are read before the old table
    is dropped. docs/decisions.md ("Spark") says why and what it costs. -#}

{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) -%}
    {%- if raw_strategy not in ['append', 'replace_where', 'replace_changed'] -%}
        {{ exceptions.raise_compiler_error(
            "Invalid incremental strategy for this project on Spark: " ~ raw_strategy
            ~ ". Expected one of: append, replace_where, replace_changed") }}
    {%- endif -%}
    {{ return(raw_strategy) }}
{%- endmacro %}

{#- The materialization runs what this returns as its one main statement
    (Spark runs one statement at a time); the statements before it run here. -#}
{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) -%}
    {%- set columns = get_quoted_csv(adapter.get_columns_in_relation(target) | map(attribute='name')) -%}
    {%- set arg_dict = {
        'target_relation': target, 'temp_relation': source, 'unique_key': unique_key,
        'incremental_predicates': incremental_predicates} -%}
    {%- if strategy == 'append' -%}
        insert into table {{ target }} select {{ columns }} from {{ source }}
    {%- elif strategy == 'replace_where' -%}
        {{ _spark_replace_where(arg_dict, columns) }}
    {%- else -%}
        {{ _spark_replace_changed(arg_dict, columns) }}
    {%- endif -%}
{%- endmacro %}

{% macro _spark_replace_where(arg_dict, columns) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set keys = arg_dict['unique_key'] or [] -%}
    {%- set written = build_relation(config.get('written_rows')) if config.get('written_rows') else none -%}
    {%- if written is not none %}
    {{ _spark_create_anew(written, 'select ' ~ columns ~ ' from ' ~ source) }}
    {%- endif %}
    {%- set kept -%}
        select {{ columns }} from {{ target }} as t
        where not coalesce({{ _rebuilt_part(arg_dict) }}, false)
        {%- if keys %}
            and not exists (
                select 1 from {{ source }} as s
                where {% for key in keys %}s.{{ key }} = t.{{ key }}{% if not loop.last %} and {% endif %}{% endfor %}
            )
        {%- endif %}
        union all
        select {{ columns }} from {{ written if written is not none else source }}
    {%- endset -%}
    {{ _spark_write_anew(target, kept) }}
{%- endmacro %}

{% macro _spark_replace_changed(arg_dict, columns) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set keys = arg_dict['unique_key'] -%}
    {%- set changed = build_relation(config.require('changed_keys')) -%}
    {%- set previous = build_relation(config.require('previous_rows')) -%}
    {%- set on_keys = [] -%}
    {%- for key in keys %}{% do on_keys.append('t.' ~ key ~ ' = c.' ~ key) %}{% endfor -%}
    {{ _spark_create_anew(changed, _changed_keys(arg_dict, columns)) }}
    {{ _spark_create_anew(previous, 'select ' ~ columns ~ ' from ' ~ target ~ ' as t left semi join '
                                    ~ changed ~ ' as c on ' ~ on_keys | join(' and ')) }}
    {#- The new rows: kept in the written_rows table when the model names
        one, and then read from it below rather than selected again. -#}
    {%- set new_rows = 'select ' ~ columns ~ ' from ' ~ source ~ ' as t left semi join '
                       ~ changed ~ ' as c on ' ~ on_keys | join(' and ') -%}
    {%- if config.get('written_rows') %}
    {%- set written = build_relation(config.get('written_rows')) -%}
    {{ _spark_create_anew(written, new_rows) }}
    {%- set new_rows = 'select ' ~ columns ~ ' from ' ~ written -%}
    {%- endif %}
    {%- if config.get('recomputed_rows') %}
    {{ _spark_create_anew(build_relation(config.get('recomputed_rows')), 'select ' ~ columns ~ ' from ' ~ source) }}
    {%- endif %}
    {%- set kept -%}
        select {{ columns }} from {{ target }} as t
        left anti join {{ changed }} as c on {{ on_keys | join(' and ') }}
        union all
        {{ new_rows }}
    {%- endset -%}
    {{ _spark_write_anew(target, kept) }}
{%- endmacro %}

{#- A Parquet table `relation` written anew from the query `sql`, before the
    strategy's main statement. -#}
{% macro _spark_create_anew(relation, sql) -%}
    {%- call statement('create_anew') -%}
        drop table if exists {{ relation }}
    {%- endcall -%}
    {%- call statement('create_anew') -%}
        create table {{ relation }} using parquet as
        {{ sql }}
    {%- endcall -%}
{%- endmacro %}

{#- The keys of the rows of the part this build recomputed that differ from
    the model's new rows, either way (a row added, changed or gone). -#}
{% macro _changed_keys(arg_dict, columns) -%}
    {%- set keys = arg_dict['unique_key'] | join(', ') -%}
    with

    before as (
        select {{ keys }}, {{ row_hash(columns) }} as row_hash
        from {{ arg_dict['target_relation'] }}
        where {{ _rebuilt_part(arg_dict) }}
    ),

    after as (
        select {{ keys }}, {{ row_hash(columns) }} as row_hash
        from {{ arg_dict['temp_relation'] }}
    )

    select {{ keys }}
    from before
    full outer join after using ({{ keys }})
    where before.row_hash is distinct from after.row_hash
{%- endmacro %}

{#- Writes `rows` to <target>__dbt_new and drops the target; returns the
    statement that gives the new table the target's name. -#}
{% macro _spark_write_anew(target, rows) -%}
    {%- set fresh = target.incorporate(path={'identifier': target.identifier ~ '__dbt_new'}) -%}
    {%- call statement('write_anew') -%}
        drop table if exists {{ fresh }}
    {%- endcall -%}
    {%- call statement('write_anew') -%}
        create table {{ fresh }} using parquet as {{ rows }}
    {%- endcall -%}
    {%- call statement('write_anew') -%}
        drop table {{ target }}
    {%- endcall -%}
    alter table {{ fresh }} rename to {{ target }}
{%- endmacro %}
