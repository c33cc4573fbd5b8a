{#- The relation a generic data test reads (dbt's own macro, overridden).
    After an incremental build, the tests of the incremental models read only
    the rows the build wrote: the rest passed when it was written, and a
    daily run should not re-test three years (docs/decisions.md, "Checks
    follow the change"): the table the model keeps them in, or its rows
    that the part the build recomputed names. A full rebuild tests whole
    tables, as the conditions are then true for every row. A test's own
    `where` still applies. -#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- if config.get('where') -%}
        {%- do conditions.append(config.get('where')) -%}
    {%- endif -%}
    {%- set kept = written_rows_kept(relation.identifier) -%}
    {%- if kept is not none -%}
        {%- set relation = kept -%}
    {%- else -%}
        {%- set written = rows_written_by_the_build(relation.identifier) -%}
        {%- if written -%}
            {%- do conditions.append(written) -%}
        {%- endif -%}
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

{#- After a build by change, the table in which an incremental model with a
    `written_rows` config keeps the rows that build wrote
    (incremental_strategies.sql): its tests read them there rather than
    look them up among all the model's rows by the condition below, a scan
    of every key (at 100 stores, three of 20M rows for one mart's tests).
    None after a full rebuild, which tests whole tables, or when no build
    window says which it was. -#}
{% macro written_rows_kept(identifier) -%}
    {%- for node in (graph.nodes.values() if execute else [])
        if node.resource_type == 'model' and node.alias == identifier
            and node.config.materialized == 'incremental' and node.config.get('written_rows') -%}
        {#- Not when the window says nothing (an empty build: dbt build --empty). -#}
        {%- if build_is_full() == false -%}
            {{ return(build_relation(node.config.get('written_rows'))) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(none) }}
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
