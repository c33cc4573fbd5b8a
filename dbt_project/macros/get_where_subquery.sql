{#- The relation a generic data test reads (dbt's own macro, overridden).
    After an incremental build, the tests of the incremental models read only
    the rows the build wrote: the rest passed when it was written, and a
    daily run should not re-test three years (docs/decisions.md, "Checks
    follow the change"). A full rebuild tests whole tables, as the
    conditions are then true for every row. A test's own `where` still
    applies. -#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- if config.get('where') -%}
        {%- do conditions.append(config.get('where')) -%}
    {%- endif -%}
    {%- set written = rows_written_by_the_build(relation.identifier) -%}
    {%- if written -%}
        {%- do conditions.append(written) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where ({{ conditions | join(') and (') }})) dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}

{#- The rows of an incremental model that its last build wrote, as a condition
    on its columns; none for a model built whole. The same conditions the
    models' incremental_predicates use (rebuilt_part.sql). -#}
{% macro rows_written_by_the_build(identifier) -%}
    {%- set by_model = {
        'stg_dms__repair_orders': in_changed_vins,
        'int_visits_aggregated_to_days': in_changed_vins,
        'int_vehicle_visits_scoped': in_changed_vins,
        'int_customer_months_classified': in_changed_customer_months,
        'kpi_churn_breakdown_month': in_changed_scope_months,
        'kpi_vehicle_age_churn_month': in_changed_scope_months,
    } -%}
    {%- if identifier in by_model -%}
        {{ by_model[identifier]() }}
    {%- elif identifier == 'stg_dms__repair_order_lines' -%}
        {{ in_touched_keys('dms_repair_order_lines', ['store_code', 'ro_number', 'line_no']) }}
    {%- elif identifier == 'fct_customer_month' -%}
        {{ in_changed_customer_months(scope_level="'store'", scope_code='store_code') }}
    {%- elif identifier == 'fct_group_customer_month' -%}
        {{ in_changed_customer_months(scope_level="'group'", scope_code="'" ~ var('group_code') ~ "'") }}
    {%- endif -%}
{%- endmacro %}
