{#- Seed rows on Spark, as literals. dbt-spark's session connection formats
    the bound values with Python's %, so an empty CSV cell (None) became the
    text 'None' (and churn_rules' brand rows, whose model is empty, matched
    no vehicle). -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
                    cast({{ _spark_seed_literal(row[loop.index0]) }} as {{ type }})
                    {%- if not loop.last %}, {% endif -%}
                {%- endfor -%})
                {%- if not loop.last %},{% endif %}
            {% endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- if loop.index0 == 0 %}{% do statements.append(sql) %}{% endif -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}

{#- A CSV cell as a Spark literal. Backslashes stay plain characters
    (spark.sql.parser.escapedStringLiterals), so a text holding a single
    quote is written in double quotes. -#}
{% macro _spark_seed_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is sameas true or value is sameas false -%}
        {{ 'true' if value else 'false' }}
    {%- elif value is number -%}
        {{ value }}
    {%- elif "'" not in (value | string) -%}
        '{{ value }}'
    {%- elif '"' not in (value | string) -%}
        "{{ value }}"
    {%- else -%}
        {{ exceptions.raise_compiler_error("a seed value holds both quote characters: " ~ value) }}
    {%- endif -%}
{%- endmacro %}
