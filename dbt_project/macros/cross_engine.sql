{#- Functions DuckDB and Spark spell differently. Each macro renders
    DuckDB's form (default__) or Spark's (spark__); the models call the
    macro, so one model runs on both engines. Spark runs with
    spark.sql.parser.escapedStringLiterals=true, so a backslash in a string
    literal means what it means to DuckDB. -#}

{#- The SHA-256 of a text, as 64 lowercase hex digits. -#}
{% macro sha256_hex(text) -%}
    {{ return(adapter.dispatch('sha256_hex')(text)) }}
{%- endmacro %}
{% macro default__sha256_hex(text) -%} sha256({{ text }}) {%- endmacro %}
{% macro spark__sha256_hex(text) -%} sha2({{ text }}, 256) {%- endmacro %}

{% macro text_starts_with(text, prefix) -%}
    {{ return(adapter.dispatch('text_starts_with')(text, prefix)) }}
{%- endmacro %}
{% macro default__text_starts_with(text, prefix) -%} starts_with({{ text }}, {{ prefix }}) {%- endmacro %}
{% macro spark__text_starts_with(text, prefix) -%} startswith({{ text }}, {{ prefix }}) {%- endmacro %}

{#- Does the regular expression match somewhere in the text? -#}
{% macro text_matches(text, pattern) -%}
    {{ return(adapter.dispatch('text_matches')(text, pattern)) }}
{%- endmacro %}
{% macro default__text_matches(text, pattern) -%} regexp_matches({{ text }}, {{ pattern }}) {%- endmacro %}
{% macro spark__text_matches(text, pattern) -%} regexp_like({{ text }}, {{ pattern }}) {%- endmacro %}

{#- The text cut at each separator into a list. On Spark the separator is
    a regular expression: ours (';', '; ') mean themselves. -#}
{% macro split_text(text, separator) -%}
    {{ return(adapter.dispatch('split_text')(text, separator)) }}
{%- endmacro %}
{% macro default__split_text(text, separator) -%} string_split({{ text }}, {{ separator }}) {%- endmacro %}
{% macro spark__split_text(text, separator) -%} split({{ text }}, {{ separator }}) {%- endmacro %}

{#- A list's texts joined by a separator. -#}
{% macro join_list(list, separator) -%}
    {{ return(adapter.dispatch('join_list')(list, separator)) }}
{%- endmacro %}
{% macro default__join_list(list, separator) -%} array_to_string({{ list }}, {{ separator }}) {%- endmacro %}
{% macro spark__join_list(list, separator) -%} array_join({{ list }}, {{ separator }}) {%- endmacro %}

{#- One row per element of a list, in a select list. -#}
{% macro unnest_list(list) -%}
    {{ return(adapter.dispatch('unnest_list')(list)) }}
{%- endmacro %}
{% macro default__unnest_list(list) -%} unnest({{ list }}) {%- endmacro %}
{% macro spark__unnest_list(list) -%} explode({{ list }}) {%- endmacro %}
