{#- Aggregates an incremental build updates by the change alone
    (docs/decisions.md, "Incremental builds"). Over rows carrying a `sign`
    -- 1 for a row counted in, -1 for a row taken away, as
    customer_month_changes() returns them -- a count is sum(sign) and a sum
    is sum(sign * value); the stored aggregate plus these, over the changed
    customer-months, equals the aggregate recomputed over all of them
    (counts and decimal sums add exactly). With signed=false (a full build,
    every row counted in) they are plain count(*) and sum(value), sparing a
    full build a multiplication per row and a decimal sum widened to 128
    bits by the product with the sign. -#}

{% macro signed_count(condition=none, signed=true) -%}
    coalesce({{ 'sum(sign)' if signed else 'count(*)' }}
        {%- if condition %} filter (where {{ condition }}){% endif %}, 0)
{%- endmacro %}

{% macro signed_sum(value, condition=none, signed=true) -%}
    coalesce(sum({{ 'sign * ' if signed }}{{ value }})
        {%- if condition %} filter (where {{ condition }}){% endif %}, 0)
{%- endmacro %}

{#- The customer-months this build changed (int_customer_months_classified
    keeps the rows it wrote and the rows they replaced): each new version
    with sign 1, each replaced version with sign -1. A vehicle's row that no
    longer exists has only its -1; a new one only its 1. For a build by
    change only: a full build's rows are every row. -#}
{% macro customer_month_changes() -%}
    select 1 as sign, written.*
    from {{ written_customer_months() }} as written
    {{ union_all_by_name() }}
    select -1 as sign, previous.*
    from {{ build_relation('int_customer_months_previous') }} as previous
{%- endmacro %}

{#- Whether this build recomputes everything (int_build_window), read when
    the model compiles: dbt compiles a model just before it runs, after
    int_build_window was built. For an incremental model's incremental branch:
    a full build recomputes its aggregates from every row instead of adding
    the change to what it stored. -#}
{% macro build_is_full() -%}
    {{ return(build_window_says('is_full_rebuild')) }}
{%- endmacro %}

{#- A condition on this build's window (int_build_window), read when the
    model compiles. True with no build window: compiled outside a build
    (`aftersales docs` catalogs the published file, which holds the marts
    only). -#}
{% macro build_window_says(condition) -%}
    {%- if not execute or adapter.get_relation(target_database(), 'intermediate', 'int_build_window') is none -%}
        {{ return(true) }}
    {%- endif -%}
    {%- set window = run_query('select ' ~ condition ~ ' from ' ~ build_relation('int_build_window')) -%}
    {{ return(window.columns[0].values() | first) }}
{%- endmacro %}
