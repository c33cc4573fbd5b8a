-- One row per scope x month end x breakdown dimension x value (SPEC section
-- 8; seeds 000, 002, 004): churn counts and rates by vehicle model, customer
-- type, occupation, gender, age band, district, last service type, visits per
-- year band, annual spend band and vehicle age band. Empty values are
-- 'unknown'. Each dimension's rows add up to the scope-month's on_file.
{%- set dimensions = {
    'vehicle_model': 'model',
    'customer_type': 'customer_type',
    'occupation': 'occupation',
    'gender': 'gender',
    'age_band': 'age_band',
    'district': 'district',
    'last_service_type': 'last_service_type',
    'visits_per_year_band': 'visits_per_year_band',
    'annual_spend_band': 'annual_spend_band',
    'vehicle_age_band': 'vehicle_age_band',
} %}
{%- set counts = {
    'on_file': none,
    'active': "churn_status = 'active'",
    'at_risk': "churn_status = 'at_risk'",
    'churned': "churn_status = 'churned'",
    'newly_churned': 'is_newly_churned',
    'hidden_churn': 'is_hidden_churn',
} %}
{%- set amounts = {
    'churned_annual_spend': ('annual_spend', "churn_status = 'churned'"),
    'on_file_annual_spend': ('annual_spend', none),
} %}
-- Incremental: a build replaces the scope-months with a changed
-- customer-month, adding the change (signed_aggregates.sql) to their stored
-- counts; a full build counts every customer-month. A store row standing
-- for its region and group is counted at its store, and that count added to
-- the region's and group's (scopes_stood_for.sql).
{%- set by_change = is_incremental() and not build_is_full() %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    on_schema_change='fail',
    incremental_predicates=[in_changed_scope_months()],
) }}
with

-- Read by each dimension. A full build reads the table itself each time
-- (each reads a few columns); DuckDB would otherwise materialize every
-- column of every customer-month once, which spills: 337 s against 16.8 s
-- at 100 stores (docs/decisions.md). A change set is small: materialized,
-- as DuckDB does not do by itself; inlined, each dimension read
-- int_customer_months_classified for it again (8.8 s against 3.4 s a day).
customer_months as {{ cte_materialized() if by_change else cte_not_materialized() }} (
    {%- if by_change %}
    {{ customer_month_changes() }}
    {%- else %}
    select 1 as sign, * from {{ ref('int_customer_months_classified') }}
    {%- endif %}
),

stores_scoped as (
    select * from {{ ref('int_stores_scoped') }}
),

-- Read twice (in_every_scope), and small: materialized.
counted_as_stored as {{ cte_materialized() }} (
    {%- for dimension, column in dimensions.items() %}
    select
        scope_level,
        scope_code,
        stands_for_its_scopes,
        month_end,
        '{{ dimension }}' as dimension,
        coalesce(cast({{ column }} as string), 'unknown') as dimension_value,
        {%- for name, condition in counts.items() %}
        {{ signed_count(condition, signed=by_change) }} as {{ name }},
        {%- endfor %}
        {%- for name, (value, condition) in amounts.items() %}
        {{ signed_sum(value, condition, signed=by_change) }} as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from customer_months
    group by all
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
),

counted as (
    {{ in_every_scope('counted_as_stored',
                      ['month_end', 'dimension', 'dimension_value'] + (counts.keys() | list) + (amounts.keys() | list),
                      'stores_scoped') }}
    {%- if by_change %}
    -- What the replaced scope-months held before this build.
    union all
    select scope_level, scope_code, month_end, dimension, dimension_value,
        {{ (counts.keys() | list + amounts.keys() | list) | join(', ') }}
    from {{ this }}
    where {{ in_changed_scope_months() }}
    {%- endif %}
),

summed as (
    select
        scope_level,
        scope_code,
        month_end,
        dimension,
        dimension_value,
        {%- for name in counts %}
        cast(sum({{ name }}) as bigint) as {{ name }},
        {%- endfor %}
        {%- for name in amounts %}
        cast(sum({{ name }}) as decimal(18, 2)) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from counted
    group by all
    -- A value no customer-month of the scope-month holds any more.
    having sum(on_file) > 0
),

final as (
    select
        *,
        {{ safe_divide('churned', 'on_file') }} as churn_rate,
        {{ safe_divide('churned_annual_spend', 'on_file_annual_spend') }} as value_weighted_churn_rate
    from summed
)

select * from final
