{#- The part of the incremental models a build recomputes (int_build_window,
    docs/decisions.md "Incremental builds"). The relations are named, not
    ref'd or source'd: these conditions go into incremental_predicates, which
    dbt renders when it parses the model, before ref and source resolve. The
    models that use them depend on int_build_window, int_vins_changed,
    int_vin_months_rebuilt and int_vins_due (a ref or depends_on line), and
    read them only in an incremental build. -#}

{% macro build_relation(name) -%}
    {{ api.Relation.create(database=target_database(), schema='intermediate', identifier=name) }}
{%- endmacro %}

{% macro raw_relation(name) -%}
    {{ api.Relation.create(database=target_database(), schema='raw', identifier=name) }}
{%- endmacro %}

{#- The target's database: Spark's targets have none (a schema is its database). -#}
{% macro target_database() -%}
    {{ return(target.database if target.database is defined else none) }}
{%- endmacro %}

{#- The rows of the table `relation` that match `condition`, for a model's
    import of the part an incremental build recomputes. DuckDB cannot push a
    condition over subqueries (the rebuilt parts below) into its scan, so a
    plain filter reads every column of every row. When the condition keeps
    `few` rows, this reads the condition's columns to find the rows' ids and
    then fetches only those rows (fct_customer_month's part after a late
    drop at 100 stores: 3.0 s -> 0.6 s); when it keeps many (a month of every
    customer), fetching them one by one costs more than the plain scan.
    Spark: the plain filter. -#}
{% macro rows_where(relation, condition, few) -%}
    {{ return(adapter.dispatch('rows_where')(relation, condition, few)) }}
{%- endmacro %}
{% macro default__rows_where(relation, condition, few) -%}
    select * from {{ relation }}
    {%- if few %}
    where rowid in (select rowid from {{ relation }} where {{ condition }})
    {%- else %}
    where {{ condition }}
    {%- endif %}
{%- endmacro %}
{% macro spark__rows_where(relation, condition, few) -%}
    select * from {{ relation }} where {{ condition }}
{%- endmacro %}

{#- Whether the part this build recomputes holds a new month of every
    customer: a full build, or a data date that entered a month after the
    previous one's. Read when the model compiles; true outside a build. -#}
{% macro build_adds_months() -%}
    {{ return(build_window_says("is_full_rebuild or cast(last_day(data_as_of_date) as date) > rebuild_from_month_end")) }}
{%- endmacro %}

{#- Customer-months recomputed by this build (int_customer_months_spined):
    the months of a changed vehicle its changes reach (int_vin_months_rebuilt),
    the window's month of a vehicle due, and every month after the window's. -#}
{% macro in_rebuilt_customer_months(vin='vin', month_end='month_end') -%}
    {{ month_end }} > (select rebuild_from_month_end from {{ build_relation('int_build_window') }})
    or ({{ vin }}, {{ month_end }}) in (select vin, month_end from {{ build_relation('int_vin_months_rebuilt') }})
    or ({{ month_end }} = (select rebuild_from_month_end from {{ build_relation('int_build_window') }})
        and {{ vin }} in (select vin from {{ build_relation('int_vins_due') }}))
{%- endmacro %}

{#- Scope-months a repair order entered or left in this build: the months of
    the previous and the new version of each repair order
    int_repair_orders_familied wrote (added, changed or gone), in every scope
    of its store; every scope-month on a full rebuild. -#}
{% macro in_changed_repair_order_scope_months(scope_level='scope_level', scope_code='scope_code', month_end='month_end') -%}
    (select is_full_rebuild from {{ build_relation('int_build_window') }})
    or ({{ scope_level }}, {{ scope_code }}, {{ month_end }}) in (
        select scoped.scope_level, scoped.scope_code, changed.month_end
        from ({{ changed_repair_order_store_months() }}) as changed
        inner join {{ build_relation('int_stores_scoped') }} as scoped using (store_code)
    )
{%- endmacro %}

{#- The stores and months of those repair orders: their previous and new
    versions, as int_repair_orders_familied wrote them. -#}
{% macro changed_repair_order_store_months() -%}
    select store_code, month_end from {{ build_relation('int_repair_orders_previous') }}
    union
    select store_code, month_end from {{ build_relation('int_repair_orders_written') }}
{%- endmacro %}

{#- Keys of a landing table with a version loaded, or replaced by a
    re-delivered file, since the last completed build. -#}
{% macro touched_since_last_build(table_name, key_columns) -%}
    ({{ key_columns | join(', ') }}) in (
        select {{ key_columns | join(', ') }} from {{ raw_relation(table_name) }}
        where _loaded_at > (select changes_loaded_after from {{ build_relation('int_build_window') }})
    )
    or concat_ws('|', {{ key_columns | join(', ') }}) in (
        select row_key from {{ raw_relation('replaced_rows') }}
        where table_name = '{{ table_name }}'
            and replaced_at > (select changes_loaded_after from {{ build_relation('int_build_window') }})
    )
{%- endmacro %}

{#- The same, or every key on a full rebuild. -#}
{% macro in_touched_keys(table_name, key_columns) -%}
    (select is_full_rebuild from {{ build_relation('int_build_window') }})
    or {{ touched_since_last_build(table_name, key_columns) }}
{%- endmacro %}

{#- Rows of the changed vehicles, or every row on a full rebuild. -#}
{% macro in_changed_vins(vin='vin') -%}
    (select is_full_rebuild from {{ build_relation('int_build_window') }})
    or {{ vin }} in (select vin from {{ build_relation('int_vins_changed') }})
{%- endmacro %}

{#- Customer-months whose row changed in this build, in every scope
    (changed_customer_months()), or every one on a full rebuild. A relation of one
    scope level names it as a literal ("'store'"), which filters the keys
    first. (Column lists, not row values: DuckDB matches them 2-3x faster.) -#}
{% macro in_changed_customer_months(scope_level='scope_level', scope_code='scope_code', vin='vin', month_end='month_end') -%}
    (select is_full_rebuild from {{ build_relation('int_build_window') }})
    {%- if scope_level.startswith("'") %}
    or ({{ scope_code }}, {{ vin }}, {{ month_end }}) in (
        select scope_code, vin, month_end from {{ changed_customer_months() }}
        where scope_level = {{ scope_level }}
    )
    {%- else %}
    or ({{ scope_level }}, {{ scope_code }}, {{ vin }}, {{ month_end }}) in (
        select scope_level, scope_code, vin, month_end from {{ changed_customer_months() }}
    )
    {%- endif %}
{%- endmacro %}

{#- The keys of the customer-months whose row changed in this build, in
    every scope: a one-store vehicle's changed store row stands for its
    region's and group's customer-months too, and they are listed
    (create_changed_customer_months_in_every_scope, scopes_stood_for.sql). -#}
{% macro changed_customer_months() -%}
    {{ build_relation('int_customer_months_changed') }}
{%- endmacro %}

{#- The new versions of those customer-months, as int_customer_months_classified
    wrote them (its written_rows): in a build by change, its rows whose key
    int_customer_months_changed_as_stored holds, without a lookup of those keys among
    all its rows (at 100 stores 22M). -#}
{% macro written_customer_months() -%}
    {{ build_relation('int_customer_months_written') }}
{%- endmacro %}

{#- Every customer-month of the part int_customer_months_classified
    recomputed in this build, changed or not (its recomputed_rows): in a
    build by change, the rows in_rebuilt_customer_months() names, without
    looking them up among all its rows. -#}
{% macro recomputed_customer_months() -%}
    {{ build_relation('int_customer_months_recomputed') }}
{%- endmacro %}

{#- Months whose as-of date this build moves: the month of the previous
    build's data date and every later one when the data date moved, none when
    it did not (every month on a full rebuild). A mart that shows the as-of
    date, or counts by it, rewrites them. -#}
{% macro in_months_of_the_data_date(month_end='month_end') -%}
    {{ month_end }} >= (select as_of_moved_from_month_end from {{ build_relation('int_build_window') }})
{%- endmacro %}

{#- Months after the previous build's data date's month: new in this build
    (none on a full rebuild, which builds every month anew anyway). -#}
{% macro in_new_months(month_end='month_end') -%}
    ({{ month_end }} > (select rebuild_from_month_end from {{ build_relation('int_build_window') }})
        and not (select is_full_rebuild from {{ build_relation('int_build_window') }}))
{%- endmacro %}

{#- Scope-months with a changed customer-month, or every one on a full rebuild. -#}
{% macro in_changed_scope_months(scope_level='scope_level', scope_code='scope_code', month_end='month_end') -%}
    (select is_full_rebuild from {{ build_relation('int_build_window') }})
    or ({{ scope_level }}, {{ scope_code }}, {{ month_end }}) in (
        select distinct scope_level, scope_code, month_end from {{ changed_customer_months() }}
    )
{%- endmacro %}

{#- The store and VIN of every version of each policy loaded, or replaced
    by a re-delivery, since the last completed build: a corrected policy
    may name another vehicle, whose features and renewals change too. -#}
{% macro policy_vehicles_touched() -%}
    select store_code, vin from {{ raw_relation('insurance_policies') }}
    where {{ touched_since_last_build('insurance_policies', ['policy_no']) }}
    union all
    select store_code, vin from {{ raw_relation('replaced_rows') }}
    where table_name = 'insurance_policies'
        and replaced_at > (select changes_loaded_after from {{ build_relation('int_build_window') }})
{%- endmacro %}

{#- Store-vehicles whose policies' renewals a build recomputes
    (int_policies_renewals_matched): those of policy_vehicles_touched(), and
    those whose vehicle record was loaded or replaced. Every one on a full
    rebuild. -#}
{% macro in_touched_policy_vehicles(store_code='store_code', vin='vin') -%}
    (select is_full_rebuild from {{ build_relation('int_build_window') }})
    or ({{ store_code }}, {{ vin }}) in (
        {{ policy_vehicles_touched() }}
        union all
        select store_code, vin from {{ raw_relation('replaced_rows') }}
        where table_name = 'dms_vehicles'
            and replaced_at > (select changes_loaded_after from {{ build_relation('int_build_window') }})
        union all
        select store_code, vin from {{ raw_relation('dms_vehicles') }}
        where _loaded_at > (select changes_loaded_after from {{ build_relation('int_build_window') }})
    )
{%- endmacro %}

{#- Campaigns whose measurement a build recomputes (int_campaign_customers_measured):
    those int_campaigns_remeasured lists, and every campaign of a store it
    lists whole. Every campaign, and every stored row, on a full rebuild. -#}
{% macro in_campaigns_remeasured(store_code='store_code', campaign_id='campaign_id') -%}
    (select is_full_rebuild from {{ build_relation('int_build_window') }})
    or {{ store_code }} in (
        select store_code from {{ build_relation('int_campaigns_remeasured') }} where campaign_id is null
    )
    or ({{ store_code }}, {{ campaign_id }}) in (
        select store_code, campaign_id from {{ build_relation('int_campaigns_remeasured') }}
        where campaign_id is not null
    )
{%- endmacro %}

{#- Survey responses whose classification a build recomputes
    (int_survey_responses_classified): those of the changed vehicles (a
    response touched, or the visits or churn rules of its vehicle changed),
    and, when the data date moved, those whose win-back window ends after the
    earlier of the two dates (is_win_back_pending reads the data date).
    Every one on a full rebuild. -#}
{% macro in_reclassified_survey_responses(vin='vin', survey_date='survey_date') -%}
    {{ in_changed_vins(vin) }}
    or {{ survey_date }} + {{ var('win_back_window_days') }} > (
        select least(data_as_of_date, previous_data_as_of_date) from {{ build_relation('int_build_window') }}
        where data_as_of_date is distinct from previous_data_as_of_date
    )
{%- endmacro %}

{#- One row per VIN of `changes` (columns vin and changed_from_date, NULL
    for "every day"): the first month end its changes reach, from
    `reach_back_months` before the earliest date's month, never before
    `first_month`'s month_end (the first month of any customer-month), which
    a NULL date reaches. int_vins_changed reaches six months back (the
    customer-months look six months ahead); int_policy_vehicle_months_rebuilt
    none. -#}
{% macro first_changed_month_per_vin(changes, first_month, reach_back_months=0) -%}
    select
        {{ changes }}.vin,
        greatest(
            case
                when count(*) > count({{ changes }}.changed_from_date) then {{ first_month }}.month_end
                else cast(last_day(min({{ changes }}.changed_from_date)
                    {%- if reach_back_months %} - interval {{ reach_back_months }} month{% endif %}) as date)
            end,
            {{ first_month }}.month_end
        ) as changed_from_month_end
    from {{ changes }}
    cross join {{ first_month }}
    where {{ changes }}.vin is not null
    group by {{ changes }}.vin, {{ first_month }}.month_end
{%- endmacro %}

{#- The customer-months the last build stored (int_customer_months_classified,
    read by the build models before this build replaces any), or none before
    the first build. -#}
{% macro stored_customer_months() -%}
    {{ return(adapter.get_relation(this.database, this.schema, 'int_customer_months_classified') if execute else none) }}
{%- endmacro %}

{#- The first month end of the stored customer-months; 9999-12-31 when none
    are stored. -#}
{% macro first_stored_month_end() -%}
    {%- set classified = stored_customer_months() -%}
    coalesce(
        {%- if classified is not none %}
        (select min(month_end) from {{ classified }}),
        {%- endif %}
        date '9999-12-31'
    )
{%- endmacro %}
