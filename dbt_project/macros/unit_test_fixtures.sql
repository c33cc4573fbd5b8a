{#- The unit tests' fixtures, written once for both engines.

    A list column in a dict fixture is written as DuckDB reads a list from
    text: "[distance, price]", "[]". DuckDB casts that text itself; Spark
    cannot cast text to an array, so on Spark the fixture's cast of such a
    text to array<string> becomes array('distance', 'price'). Every other
    cast is dbt-spark's own (spark__safe_cast in dbt-spark). -#}
{% macro spark__safe_cast(field, type) -%}
    {%- set text = field.strip() if field is string else none -%}
    {%- if type.lower() == 'array<string>' and text and text.startswith("'[") and text.endswith("]'") -%}
        {%- set items = text[2:-2].split(',') | map('trim') | reject('equalto', '') | list -%}
        {{ text_list(items) }}
    {%- else -%}
        {%- set field_clean = field.strip('"').strip("'") if (cast_from_string_unsupported_for(type) and field is string) else field -%}
        cast({{ field_clean }} as {{ type }})
    {%- endif -%}
{%- endmacro %}

{#- A list of texts in a SQL fixture: ['a', 'b'] in DuckDB, array('a', 'b')
    in Spark; an empty list keeps its type. -#}
{% macro text_list(values) -%}
    {{ return(adapter.dispatch('text_list')(values)) }}
{%- endmacro %}
{% macro default__text_list(values) -%}
    {%- if values -%} [{% for v in values %}'{{ v }}'{{ ', ' if not loop.last }}{% endfor %}]
    {%- else -%} []::varchar[] {%- endif -%}
{%- endmacro %}
{% macro spark__text_list(values) -%}
    cast(array({% for v in values %}'{{ v }}'{{ ', ' if not loop.last }}{% endfor %}) as array<string>)
{%- endmacro %}
