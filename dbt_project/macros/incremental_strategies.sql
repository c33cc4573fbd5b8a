{#- Incremental strategies of the warehouse (docs/decisions.md, "Incremental
    builds"). A build recomputes a part of a model -- the customer-months of
    the changed vehicles and of the months the new data date moves -- and
    these strategies put that part in place of the old one.

    replace_where: delete the target's rows matching the model's
    incremental_predicates (the part this build recomputed) and, given a
    unique_key, the rows the model returns anew; insert the model's rows.
    Unlike delete+insert on a unique key alone, rows that no longer exist (a
    re-delivered file dropped a repair order) are deleted too. Given
    `written_rows`, the rows it inserts are kept there too.

    replace_changed: the same replacement, but it writes only the rows that
    differ, records their keys in the relation named by the model's
    `changed_keys` config and keeps the rows they replace in the one named by
    `previous_rows` (both in schema intermediate, which analysts do not
    read), so models downstream recompute only what changed: an aggregate
    adds the new rows and takes away the previous ones. Given
    `written_rows`, it also keeps the new rows it wrote there, so that those
    models read them from a table of the change, not by looking their keys
    up in the whole model; given `recomputed_rows`, every row of the part
    (changed or not: what the part of the model holds after the build), for
    a model downstream that recomputes the same part.
    replace_where runs inside the model's transaction; replace_changed works
    out the change before it and replaces the rows inside it.

    The data tests of a model with `written_rows` read that table after a
    build by change: the rows the build wrote, without looking them up among
    all of the model's rows (get_where_subquery.sql).

    The part recomputed is the model's incremental_predicates, or, for a
    Python model (whose config cannot call a macro), the condition the macro
    its `rebuilt_part` config names returns. -#}

{% macro get_incremental_replace_where_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set keys = arg_dict['unique_key'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set new_rows = arg_dict['temp_relation'] -%}
    {%- if config.get('written_rows') %}
    {%- set new_rows = build_relation(config.get('written_rows')) %}
    create or replace table {{ new_rows }} as
    select {{ columns }} from {{ arg_dict['temp_relation'] }};
    {%- endif %}

    delete from {{ target }}
    where {{ _rebuilt_part(arg_dict) }}
    {%- if keys %}
        or ({{ keys | join(', ') }}) in (select {{ keys | join(', ') }} from {{ new_rows }})
    {%- endif %};

    insert into {{ target }} ({{ columns }})
    select {{ columns }} from {{ new_rows }};

    {{ _drop_temp_relation(arg_dict) }}
{%- endmacro %}

{% macro get_incremental_replace_changed_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set keys = arg_dict['unique_key'] | join(', ') -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    {%- set changed = build_relation(config.require('changed_keys')) -%}
    {%- set previous = build_relation(config.require('previous_rows')) -%}
    {%- set hashes = stored_row_hashes() -%}
    {%- set written = build_relation(config.get('written_rows')) if config.get('written_rows') else none -%}
    {%- set recomputed = build_relation(config.get('recomputed_rows')) if config.get('recomputed_rows') else none -%}
    {%- set stored = api.Relation.create(identifier=target.identifier ~ '__dbt_stored').incorporate(type='table') -%}
    {%- set replaced = api.Relation.create(identifier=target.identifier ~ '__dbt_replaced').incorporate(type='table') -%}
    {#- What the change is, worked out before the model's transaction, in
        statements of their own run now: DuckDB reads a table with one thread
        in the transaction that created it, and these tables are read again
        below. They only describe the change; should the transaction fail,
        the build is not completed and the next one rebuilds everything. -#}
    {{- commit_open_transaction() }}
    {%- call statement('replace_changed_prepare', auto_begin=false) %}
    {#- The part as stored, its keys and row hashes, read once: from the
        model's row_hashes table when it keeps one (its part must then name
        key columns only), else from the rows themselves, every column. #}
    create or replace temporary table {{ stored }} as
    select rowid as stored_rowid, {{ keys }},
        {{ 'row_hash' if hashes is not none else row_hash(columns) ~ ' as row_hash' }}
    from {{ hashes if hashes is not none else target }}
    where {{ _rebuilt_part(arg_dict) }};

    {#- The keys of the rows that differ, either way (added, changed or gone). #}
    create or replace table {{ changed }} as
    select {{ keys }}
    from {{ stored }} as stored
    full outer join (
        select {{ keys }}, {{ row_hash(columns) }} as row_hash from {{ source }}
    ) as rebuilt using ({{ keys }})
    where stored.row_hash is distinct from rebuilt.row_hash;
    {%- if written is not none %}

    {#- The new rows: what the statements below insert. #}
    create or replace table {{ written }} as
    select {{ columns }}
    from {{ source }}
    semi join {{ changed }} using ({{ keys }});
    {%- endif %}
    {%- if recomputed is not none %}

    create or replace table {{ recomputed }} as
    select {{ columns }} from {{ source }};
    {%- endif %}
    {%- endcall %}
    {%- set new_rows = written if written is not none else '(select * from ' ~ source ~ ' semi join ' ~ changed ~ ' using (' ~ keys ~ '))' %}

    {%- if hashes is not none %}

    {#- The replaced rows' ids, found by key once for both statements below
        (each scanned the target's keys for them). -#}
    create or replace temporary table {{ replaced }} as
    select rowid as replaced_rowid from {{ target }}
    where ({{ keys }}) in (select {{ keys }} from {{ changed }});

    create or replace table {{ previous }} as
    select {{ columns }}
    from {{ target }}
    where rowid in (select replaced_rowid from {{ replaced }});

    delete from {{ target }}
    where rowid in (select replaced_rowid from {{ replaced }});
    drop table {{ replaced }};

    delete from {{ hashes }}
    where rowid in (select stored_rowid from {{ stored }} semi join {{ changed }} using ({{ keys }}));

    insert into {{ hashes }} ({{ keys }}, row_hash)
    select {{ keys }}, {{ row_hash(columns) }}
    from {{ new_rows }} as new_rows;
    {%- else %}

    create or replace table {{ previous }} as
    select {{ columns }}
    from {{ target }}
    where rowid in (select stored_rowid from {{ stored }} semi join {{ changed }} using ({{ keys }}));

    delete from {{ target }}
    where rowid in (select stored_rowid from {{ stored }} semi join {{ changed }} using ({{ keys }}));
    {%- endif %}

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ new_rows }} as new_rows;

    drop table if exists {{ stored }};
    {{ _drop_temp_relation(arg_dict) }}
{%- endmacro %}

{#- The table of the model's row hashes (config row_hashes: the keys and
    row_hash of every row), when the model keeps one and it exists; else
    none. replace_changed then reads the hashes of the part it replaces from
    it, not every column of those rows from the model's table: the rows of
    a day's part of int_customer_months_classified lie in nearly every row
    group of the table, so reading them is reading it (at 100 stores, when
    it held 61M rows: 10.6 s; from the hashes 1.3 s). -#}
{% macro stored_row_hashes() -%}
    {%- set name = config.get('row_hashes') -%}
    {%- if not name -%}{{ return(none) }}{%- endif -%}
    {{ return(adapter.get_relation(target_database(), 'intermediate', name)) }}
{%- endmacro %}

{#- The model's pre- and post-hook for its row hashes: a build that writes
    the table anew (the first, --full-refresh) drops them before and hashes
    every row after; an incremental build finds them and replace_changed
    keeps them. DuckDB's only (Spark's replace_changed writes the table anew). -#}
{% macro drop_row_hashes_unless_incremental() -%}
    {{ return(adapter.dispatch('drop_row_hashes_unless_incremental')()) }}
{%- endmacro %}
{% macro default__drop_row_hashes_unless_incremental() -%}
    {%- if not is_incremental() -%}
    drop table if exists {{ build_relation(config.require('row_hashes')) }}
    {%- endif -%}
{%- endmacro %}
{% macro spark__drop_row_hashes_unless_incremental() -%}{%- endmacro %}

{% macro hash_rows_unless_kept() -%}
    {{ return(adapter.dispatch('hash_rows_unless_kept')()) }}
{%- endmacro %}
{#- Run after the model's commit (after_commit): DuckDB reads a table with
    one thread in the transaction that created it. It runs its statement in
    a transaction of its own, which it commits (dbt rolls back what a hook
    outside the model's transaction leaves open), and renders to nothing. -#}
{% macro default__hash_rows_unless_kept() -%}
    {%- set columns = get_quoted_csv(adapter.get_columns_in_relation(this) | map(attribute='name')) -%}
    {%- set keys = config.require('unique_key') | join(', ') -%}
    {%- call statement('row_hashes', auto_begin=true) -%}
    create table if not exists {{ build_relation(config.require('row_hashes')) }} as
    select {{ keys }}, {{ row_hash(columns) }} as row_hash from {{ this }}
    {%- endcall -%}
    {%- do adapter.commit() -%}
{%- endmacro %}
{% macro spark__hash_rows_unless_kept() -%}{%- endmacro %}

{#- Commit the transaction the materialization's first query opened (dbt
    begins one on its own; so far it has only read the catalog: no model of
    this strategy writes in a pre-hook of an incremental build), so that the
    statements after this run each in a transaction of its own until one
    asks for a transaction again (auto_begin). Opens one first when none is
    open, as adapter.commit() needs one. -#}
{% macro commit_open_transaction() -%}
    {%- call statement('open_transaction', auto_begin=true) %}select 1{% endcall -%}
    {%- do adapter.commit() -%}
{%- endmacro %}

{#- dbt-duckdb writes a Python model's rows for an incremental build into a
    table of schema main (not a temporary table) and leaves it there: one
    more table a build, outside the schemas the warehouse knows. The
    strategies drop it once its rows are in (a SQL model's temporary table
    goes the same way). -#}
{% macro _drop_temp_relation(arg_dict) -%}
    drop table if exists {{ arg_dict['temp_relation'] }}
{%- endmacro %}

{% macro _rebuilt_part(arg_dict) -%}
    {%- set predicates = rebuilt_part_predicates(arg_dict['incremental_predicates'], config.get('rebuilt_part')) -%}
    {%- if not predicates -%}
        {{ exceptions.raise_compiler_error(
            "incremental strategies replace_where / replace_changed need incremental_predicates "
            ~ "or rebuilt_part: the part of " ~ arg_dict['target_relation'] ~ " this build recomputes") }}
    {%- endif -%}
    ({{ predicates | join(') and (') }})
{%- endmacro %}

{#- The conditions naming the part of an incremental model a build
    recomputes: its incremental_predicates, else the condition of the macro
    its rebuilt_part config names, else none. -#}
{% macro rebuilt_part_predicates(incremental_predicates, rebuilt_part) -%}
    {%- if incremental_predicates -%}
        {{ return(incremental_predicates) }}
    {%- elif rebuilt_part -%}
        {{ return([context[rebuilt_part]()]) }}
    {%- endif -%}
    {{ return([]) }}
{%- endmacro %}

{#- A post-hook of a replace_changed model: create the relation its config
    `kind` (changed_keys, previous_rows, written_rows or recomputed_rows) names, empty, when
    it does not exist yet (a first build, or --full-refresh, writes the
    model's table without the strategy), so the models downstream can
    always read it. The keys relation holds the unique_key's columns, the
    others every column. -#}
{% macro replace_changed_relation(kind) -%}
    create table if not exists {{ build_relation(config.require(kind)) }} as
    select {{ config.require('unique_key') | join(', ') if kind == 'changed_keys' else '*' }}
    from {{ this }} where false
{%- endmacro %}
