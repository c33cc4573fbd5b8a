{#- Schemas are named for their layer (staging, intermediate, marts, seeds),
    not prefixed with the target schema: analysts query `marts.kpi_store_month`. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name if custom_schema_name else target.schema }}
{%- endmacro %}
