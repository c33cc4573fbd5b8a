{#- int_customer_months_classified holds a vehicle seen at one store only at
    store level: its region's and group's customer-months would be the same
    row but for the scope, so the store row stands for all three
    (stands_for_its_scopes; docs/decisions.md, "One row for a one-store
    vehicle's three scopes"). At 100 stores that is 22M rows where every
    scope written out is 61M. Readers that count by scope count the store
    rows once and roll what the flagged ones counted up to their region and
    group: counts and sums add up, so the roll-up is over aggregates, not
    rows. -#}

{#- The rows of `relation` (columns scope_level, scope_code and
    stands_for_its_scopes, then `columns`) in every scope they stand for: a
    flagged row once per scope of its store (int_stores_scoped, read as
    `stores_scoped`), the others as they are. Over aggregates of one store
    and flag, the reader then sums the flagged aggregates' region and group
    rows with the region's and group's own. -#}
{% macro in_every_scope(relation, columns, stores_scoped) -%}
    select scope_level, scope_code, {{ columns | join(', ') }}
    from {{ relation }} as own
    where not own.stands_for_its_scopes
    union all
    select scoped.scope_level, scoped.scope_code
        {%- for column in columns %}, stood_for.{{ column }}{% endfor %}
    from {{ relation }} as stood_for
    inner join {{ stores_scoped }} as scoped on scoped.store_code = stood_for.scope_code
    where stood_for.stands_for_its_scopes
{%- endmacro %}

{#- The keys of the customer-months this build changed, in every scope
    (intermediate.int_customer_months_changed, which the marts' incremental
    predicates, the checks and the publish read): the keys of the rows the
    classification replaced and wrote (its previous_rows and written_rows,
    which hold exactly the keys of its rows that changed), a flagged one's
    in its region and group too; none when the table is created anew. A
    post-hook of the classification, after one that drops the table (Spark
    runs one statement at a time and cannot replace a Parquet table in
    one). -#}
{% macro create_changed_customer_months_in_every_scope() -%}
    {%- set changed_rows -%}
        (select scope_level, scope_code, stands_for_its_scopes, vin, month_end
         from {{ build_relation(config.require('previous_rows')) }}
         union all
         select scope_level, scope_code, stands_for_its_scopes, vin, month_end
         from {{ build_relation(config.require('written_rows')) }})
    {%- endset -%}
    create table {{ changed_customer_months() }} as
    {%- if is_incremental() %}
    select distinct scope_level, scope_code, vin, month_end
    from ({{ in_every_scope(changed_rows, ['vin', 'month_end'], build_relation('int_stores_scoped')) }}) as changed
    {%- else %}
    {#- A build that creates the table anew changed every row; no reader
        asks which (they read every row on a full rebuild). The tables of
        the last incremental build may be another code's. #}
    select scope_level, scope_code, vin, month_end from {{ this }} where false
    {%- endif %}
{%- endmacro %}
