{#- On Spark, the raw sources are the loader's Parquet mirror
    (sources/raw_parquet.py), registered as tables of schema raw at the start
    of every dbt invocation: a table per source over every Parquet file of
    its folder, so a day's new drops are read. DuckDB reads its own raw
    tables: nothing to do. -#}
{% macro register_raw_parquet() -%}
    {{ return(adapter.dispatch('register_raw_parquet')()) }}
{%- endmacro %}

{% macro default__register_raw_parquet() -%}
{%- endmacro %}

{% macro spark__register_raw_parquet() -%}
    {%- if execute -%}
        {%- set root = env_var('AFTERSALES_RAW_PARQUET', '../var/raw_parquet') -%}
        {%- do run_query('create database if not exists raw') -%}
        {%- for source in graph.sources.values() | selectattr('schema', 'equalto', 'raw') | sort(attribute='identifier') -%}
            {%- set table = 'raw.' ~ source.identifier -%}
            {%- set location = root ~ '/' ~ source.identifier -%}
            {%- do run_query('drop table if exists ' ~ table) -%}
            {#- Every file below the table's folder, the partition folders
                read as folders (their store and drop date are columns of
                the files too). -#}
            {%- do run_query("create table " ~ table ~ " using parquet options (recursiveFileLookup 'true')"
                ~ " location '" ~ location ~ "'") -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
