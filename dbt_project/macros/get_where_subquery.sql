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
    on its columns: the model's own incremental_predicates or rebuilt_part
    (incremental_strategies.sql), which name the part the build replaced;
    none for a model built whole. -#}
{% macro rows_written_by_the_build(identifier) -%}
    {%- for node in (graph.nodes.values() if execute else [])
        if node.resource_type == 'model' and node.alias == identifier
            and node.config.materialized == 'incremental' -%}
        {%- set predicates = rebuilt_part_predicates(node.config.incremental_predicates,
                                                     node.config.get('rebuilt_part')) -%}
        {%- if predicates %}({{ predicates | join(') and (') }}){% endif -%}
    {%- endfor -%}
{%- endmacro %}
