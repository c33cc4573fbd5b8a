-- One row per scope (store, region, group) and month end: every rate of SPEC
-- section 7 with its numerator and denominator. Statuses, cohorts and money
-- are counted over the scope's own customers (a vehicle at two stores of a
-- region is one region customer); renewals are a store's own business and
-- add up across stores, and so do survey responses (counted in the month of
-- the survey). A rate over zero is NULL; counts are 0, not NULL.
--
-- Incremental: a build replaces the scope-months with a changed
-- customer-month, the months six on (whose cohort they are), the months whose
-- as-of date it moves, and those whose renewal or survey counts moved (both are small and computed whole). Their
-- status and cohort counts are the stored ones plus the change
-- (signed_aggregates.sql); a full build counts every customer-month.
-- A store row standing for its region and group (stands_for_its_scopes) is
-- counted at its store, and that count added to the region's and group's
-- (scopes_stood_for.sql).
{%- set cohort_month = "cast(last_day(month_end + interval 6 month) as date)" %}
{%- set changed_here_or_in_cohort = in_changed_scope_months() ~ " or " ~ in_changed_scope_months(
    month_end="cast(last_day(month_end - interval 6 month) as date)") %}
{%- set by_change = is_incremental() and not build_is_full() %}
{%- set counts = {
    'on_file': none,
    'active': "churn_status = 'active'",
    'at_risk': "churn_status = 'at_risk'",
    'churned': "churn_status = 'churned'",
    'new_customers': 'is_new',
    'won_back': 'is_won_back',
    'newly_churned': 'is_newly_churned',
    'hidden_churn': 'is_hidden_churn',
    'churned_group_transfers': "churn_status = 'churned' and is_group_transfer",
    'churned_to_competitors': "churn_status = 'churned' and not is_group_transfer and loss_type = 'competitor'",
    'churned_natural': "churn_status = 'churned' and not is_group_transfer and loss_type = 'natural'",
    'churned_insurer_assigned':
        "churn_status = 'churned' and not is_group_transfer and loss_type = 'insurer_assigned'",
} %}
{%- set sums = {
    'visits': ('visits', none),
    'paid_visits': ('paid_visits', none),
} %}
{%- set amounts = {
    'churned_annual_spend': ('annual_spend', "churn_status = 'churned'"),
    'on_file_annual_spend': ('annual_spend', none),
    'value_at_risk': ('annual_spend', "churn_status = 'at_risk'"),
    'newly_churned_annual_spend': ('annual_spend', 'is_newly_churned'),
    'revenue': ('revenue', none),
    'labor_amount': ('labor_amount', none),
    'parts_amount': ('parts_amount', none),
    'parts_cost': ('parts_cost', none),
} %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    unique_key=['scope_level', 'scope_code', 'month_end'],
    on_schema_change='fail',
    incremental_predicates=[changed_here_or_in_cohort],
) }}
with

renewals as (
    select * from {{ ref('int_policies_renewals_matched') }}
),

stores_scoped as (
    select * from {{ ref('int_stores_scoped') }}
),

surveys as (
    select * from {{ ref('int_surveys_aggregated_to_scope_months') }}
),

data_dates as (
    select * from {{ ref('stg_reference__data_dates') }}
),

policy_months as (
    select
        stores_scoped.scope_level,
        stores_scoped.scope_code,
        renewals.month_end,
        count(*) as policies_expiring,
        count(*) filter (where renewals.is_renewed) as policies_renewed
    from renewals
    inner join stores_scoped using (store_code)
    group by stores_scoped.scope_level, stores_scoped.scope_code, renewals.month_end
),

{%- if is_incremental() %}

-- The scope-months to recompute (see the header): those stored, and those
-- with customers and no stored row yet. In a build by change, a scope-month
-- with customers that has no stored row has only new customer-months, so
-- the classification's written rows name it; otherwise every customer-month
-- is read.
recomputed as (
    select scope_level, scope_code, month_end
    from {{ this }}
    where {{ changed_here_or_in_cohort }}
    union
    select distinct scope_level, scope_code, month_end
    from ({{ in_every_scope(written_customer_months() if by_change else ref('int_customer_months_classified'),
                            ['month_end'], 'stores_scoped') }}) as customer_months
    where {{ changed_here_or_in_cohort }}
    union
    select scope_level, scope_code, month_end
    from {{ this }}
    where {{ in_months_of_the_data_date() }}
    union
    select previous.scope_level, previous.scope_code, previous.month_end
    from {{ this }} as previous
    left join policy_months using (scope_level, scope_code, month_end)
    left join surveys using (scope_level, scope_code, month_end)
    where previous.policies_expiring <> coalesce(policy_months.policies_expiring, 0)
        or previous.policies_renewed <> coalesce(policy_months.policies_renewed, 0)
        or previous.surveys <> coalesce(surveys.surveys, 0)
        or previous.reached_surveys <> coalesce(surveys.reached_surveys, 0)
        or previous.confirmed_lost <> coalesce(surveys.confirmed_lost, 0)
        or previous.insurer_assigned_only <> coalesce(surveys.insurer_assigned_only, 0)
        or previous.win_back_booked <> coalesce(surveys.win_back_booked, 0)
        or previous.win_back_eligible <> coalesce(surveys.win_back_eligible, 0)
        or previous.won_back_after_survey <> coalesce(surveys.won_back_after_survey, 0)
        or previous.win_back_pending <> coalesce(surveys.win_back_pending, 0)
),
{%- endif %}

-- The customer-months to count: the changed ones, signed, in a build by
-- change; every one otherwise (an incremental build that is not by change
-- recomputes every scope-month).
-- Read twice. On a full build the table itself is scanned twice, a few
-- columns each time: DuckDB would otherwise materialize the CTE with every
-- column (kpi_churn_breakdown_month says what that cost). A change set is
-- small and is materialized: evaluated once.
customer_months as {{ cte_materialized() if by_change else cte_not_materialized() }} (
    {%- if by_change %}
    {{ customer_month_changes() }}
    {%- else %}
    select 1 as sign, * from {{ ref('int_customer_months_classified') }}
    {%- endif %}
),

{%- if by_change %}

-- What the recomputed scope-months held before this build.
stored as (
    select * from {{ this }}
    where (scope_level, scope_code, month_end) in (select scope_level, scope_code, month_end from recomputed)
),
{%- endif %}

-- Read twice (in_every_scope), and small: materialized.
status_counts as {{ cte_materialized() }} (
    select
        scope_level,
        scope_code,
        stands_for_its_scopes,
        month_end,
        {%- for name, condition in counts.items() %}
        {{ signed_count(condition, signed=by_change) }} as {{ name }},
        {%- endfor %}
        {%- for name, (value, condition) in (sums.items() | list) + (amounts.items() | list) %}
        {{ signed_sum(value, condition, signed=by_change) }} as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from customer_months
    group by scope_level, scope_code, stands_for_its_scopes, month_end
),

statuses as (
    select
        scope_level,
        scope_code,
        month_end,
        {%- for name in (counts.keys() | list) + (sums.keys() | list) %}
        cast(sum({{ name }}) as bigint) as {{ name }},
        {%- endfor %}
        {%- for name in amounts %}
        cast(sum({{ name }}) as decimal(18, 2)) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}
    from (
        {{ in_every_scope('status_counts',
                          ['month_end'] + (counts.keys() | list) + (sums.keys() | list) + (amounts.keys() | list),
                          'stores_scoped') }}
        {%- if by_change %}
        {{ union_all_by_name() }}
        select
            scope_level, scope_code, month_end,
            {{ ((counts.keys() | list) + (sums.keys() | list) + (amounts.keys() | list)) | join(', ') }}
        from stored
        {%- endif %}
    )
    group by scope_level, scope_code, month_end
    -- A scope-month no customer-month is in any more.
    having sum(on_file) > 0
),

-- Cohort of month N = customers with a visit in month N-6; returned = those
-- with a visit in months N-5 .. N (seed 001, 第N月流失率). By change, a
-- month the data date has just entered has no stored cohort, and its cohort
-- month, long past, mostly did not change: its cohort is counted whole.
-- Read twice (in_every_scope), and small: materialized.
cohort_counts as {{ cte_materialized() }} (
    select
        scope_level,
        scope_code,
        stands_for_its_scopes,
        {{ cohort_month }} as month_end,
        {{ signed_count(signed=by_change) }} as cohort_size,
        {{ signed_count('visits_in_next_six_months', signed=by_change) }} as cohort_returned
    from customer_months
    where visits > 0
    {%- if by_change %}
        and not {{ in_new_months(cohort_month) }}
    {%- endif %}
    group by all
    {%- if by_change %}
    union all
    select
        scope_level,
        scope_code,
        stands_for_its_scopes,
        {{ cohort_month }} as month_end,
        count(*) as cohort_size,
        count(*) filter (where visits_in_next_six_months) as cohort_returned
    from {{ ref('int_customer_months_classified') }}
    -- the cohort months of the new months (a range on month_end, which
    -- the table's zone maps skip to)
    where visits > 0
        and month_end > (
            select cast(last_day(rebuild_from_month_end - interval 6 month) as date)
            from {{ build_relation('int_build_window') }}
        )
    group by all
    {%- endif %}
),

cohorts as (
    select
        scope_level,
        scope_code,
        month_end,
        cast(sum(cohort_size) as bigint) as cohort_size,
        cast(sum(cohort_returned) as bigint) as cohort_returned
    from (
        {{ in_every_scope('cohort_counts', ['month_end', 'cohort_size', 'cohort_returned'], 'stores_scoped') }}
        {%- if by_change %}
        union all
        select scope_level, scope_code, month_end, cohort_size, cohort_returned
        from stored
        {%- endif %}
    )
    group by scope_level, scope_code, month_end
),

final as (
    select
        statuses.scope_level,
        statuses.scope_code,
        statuses.month_end,
        {{ customer_month_as_of('statuses.month_end') }} as as_of_date,
        statuses.on_file,
        statuses.active,
        statuses.at_risk,
        statuses.churned,
        statuses.active + statuses.at_risk as base_customers,
        statuses.new_customers,
        statuses.won_back,
        statuses.newly_churned,
        statuses.hidden_churn,
        {{ safe_divide('statuses.churned', 'statuses.on_file') }} as churn_rate,
        statuses.churned_annual_spend,
        statuses.on_file_annual_spend,
        {{ safe_divide('statuses.churned_annual_spend', 'statuses.on_file_annual_spend') }}
            as value_weighted_churn_rate,
        statuses.churned_group_transfers,
        statuses.churned_to_competitors,
        statuses.churned_natural,
        statuses.churned_insurer_assigned,
        coalesce(cohorts.cohort_size, 0) as cohort_size,
        coalesce(cohorts.cohort_returned, 0) as cohort_returned,
        1 - {{ safe_divide('cohorts.cohort_returned', 'cohorts.cohort_size') }} as cohort_churn_rate,
        {{ safe_divide('cohorts.cohort_returned', 'cohorts.cohort_size') }} as cohort_retention_rate,
        statuses.visits,
        statuses.paid_visits,
        statuses.revenue,
        {{ money_per('statuses.revenue', 'statuses.paid_visits') }} as per_ticket_value,
        statuses.labor_amount,
        statuses.parts_amount,
        {{ safe_divide('statuses.parts_amount', 'statuses.labor_amount') }} as labor_parts_ratio,
        {{ safe_divide('statuses.labor_amount', 'statuses.labor_amount + statuses.parts_amount') }} as labor_share,
        statuses.parts_cost,
        cast(statuses.revenue - statuses.parts_cost as decimal(18, 2)) as gross_profit,
        {{ safe_divide('statuses.revenue - statuses.parts_cost', 'statuses.revenue') }} as gross_margin,
        coalesce(policy_months.policies_expiring, 0) as policies_expiring,
        coalesce(policy_months.policies_renewed, 0) as policies_renewed,
        {{ safe_divide('policy_months.policies_renewed', 'policy_months.policies_expiring') }} as renewal_rate,
        statuses.value_at_risk,
        statuses.newly_churned_annual_spend,
        cast(statuses.newly_churned_annual_spend * {{ var('remaining_expected_years') }} as decimal(18, 2))
            as lifetime_value_lost,
        coalesce(surveys.surveys, 0) as surveys,
        coalesce(surveys.reached_surveys, 0) as reached_surveys,
        coalesce(surveys.confirmed_lost, 0) as confirmed_lost,
        coalesce(surveys.insurer_assigned_only, 0) as insurer_assigned_only,
        surveys.confirmed_lost_rate,
        coalesce(surveys.win_back_booked, 0) as win_back_booked,
        coalesce(surveys.win_back_eligible, 0) as win_back_eligible,
        coalesce(surveys.won_back_after_survey, 0) as won_back_after_survey,
        coalesce(surveys.win_back_pending, 0) as win_back_pending,
        surveys.win_back_rate
    from statuses
    cross join data_dates
    left join cohorts using (scope_level, scope_code, month_end)
    left join policy_months using (scope_level, scope_code, month_end)
    left join surveys using (scope_level, scope_code, month_end)
    {%- if is_incremental() %}
    where (scope_level, scope_code, month_end) in (select scope_level, scope_code, month_end from recomputed)
    {%- endif %}
)

select * from final
