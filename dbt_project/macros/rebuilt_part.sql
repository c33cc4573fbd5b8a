{#- The part of the incremental models a build recomputes (int_build_window,
    docs/decisions.md "Incremental builds"). The relations are named, not
    ref'd: the models that use these macros run after int_customer_months_spined,
    which refs both, and only in an incremental build -- a unit test or a full
    build of a model never reads them. -#}

{% macro build_relation(name) -%}
    {{ api.Relation.create(database=target.database, schema='intermediate', identifier=name) }}
{%- endmacro %}

{#- Customer-months recomputed by this build: every month from the window's
    on, and every month of a changed vehicle. -#}
{% macro in_rebuilt_customer_months(vin='vin', month_end='month_end') -%}
    {{ month_end }} >= (select rebuild_from_month_end from {{ build_relation('int_build_window') }})
    or {{ vin }} in (select vin from {{ build_relation('int_vins_changed') }})
{%- endmacro %}

{#- Customer-months whose row changed in this build (int_customer_months_classified
    records their keys), or every one on a full rebuild. -#}
{% macro in_changed_customer_months(scope_level='scope_level', scope_code='scope_code', vin='vin', month_end='month_end') -%}
    (select is_full_rebuild from {{ build_relation('int_build_window') }})
    or ({{ scope_level }}, {{ scope_code }}, {{ vin }}, {{ month_end }}) in (
        select (scope_level, scope_code, vin, month_end) from {{ changed_customer_months() }}
    )
{%- endmacro %}

{#- The keys of the customer-months whose row changed in this build. -#}
{% macro changed_customer_months() -%}
    {{ build_relation('int_customer_months_changed') }}
{%- endmacro %}

{#- Scope-months with a changed customer-month, or every one on a full rebuild. -#}
{% macro in_changed_scope_months(scope_level='scope_level', scope_code='scope_code', month_end='month_end') -%}
    (select is_full_rebuild from {{ build_relation('int_build_window') }})
    or ({{ scope_level }}, {{ scope_code }}, {{ month_end }}) in (
        select distinct (scope_level, scope_code, month_end) from {{ changed_customer_months() }}
    )
{%- endmacro %}
