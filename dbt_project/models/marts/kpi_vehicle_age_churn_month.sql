-- One row per scope x month end x vehicle age (within 1, 2, 3 years): churn
-- of the vehicles the scope's stores sold, against the industry line (seed
-- 003: under 5% within one year, 8% within two, 12% within three; seed
-- industry_churn_lines). "Within n years" = purchase_date in (D - n years, D],
-- D the as-of date, among the customers on file; the spans nest.
-- Incremental: a build replaces the scope-months with a changed
-- customer-month, adding the change (signed_aggregates.sql) to their stored
-- counts, and counts the months whose as-of date it moves whole (a vehicle
-- enters or leaves a span as D moves, its customer-month unchanged); a full
-- build counts every customer-month. A store row standing for its region
-- and group is counted at its store, and that count added to the region's
-- and group's (scopes_stood_for.sql).
{%- set by_change = is_incremental() and not build_is_full() %}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    on_schema_change='fail',
    incremental_predicates=[in_changed_scope_months() ~ ' or ' ~ in_months_of_the_data_date()],
) }}
with

customer_months as (
    select * from (
        {%- if by_change %}
        select * from ({{ customer_month_changes() }})
        where not ({{ in_months_of_the_data_date() }})
        {{ union_all_by_name() }}
        select 1 as sign, * from {{ ref('int_customer_months_classified') }}
        where {{ in_months_of_the_data_date() }}
        {%- else %}
        select 1 as sign, * from {{ ref('int_customer_months_classified') }}
        {%- endif %}
    )
    where sold_by_store
),

stores_scoped as (
    select * from {{ ref('int_stores_scoped') }}
),

industry_lines as (
    select * from {{ ref('industry_churn_lines') }}
),

data_dates as (
    select * from {{ ref('stg_reference__data_dates') }}
),

aged as (
    select
        customer_months.scope_level,
        customer_months.scope_code,
        customer_months.stands_for_its_scopes,
        customer_months.month_end,
        industry_lines.within_years,
        industry_lines.industry_churn_rate,
        customer_months.churn_status,
        customer_months.sign
    from customer_months
    cross join data_dates
    inner join industry_lines
        on customer_months.purchase_date
            > {{ add_months(customer_month_as_of('customer_months.month_end'), '-12 * industry_lines.within_years') }}
        and customer_months.purchase_date <= {{ customer_month_as_of('customer_months.month_end') }}
),

-- Read twice (in_every_scope), and small: materialized.
counted_as_stored as {{ cte_materialized() }} (
    select
        scope_level,
        scope_code,
        stands_for_its_scopes,
        month_end,
        within_years,
        any_value(industry_churn_rate) as industry_churn_rate,
        {{ signed_count(signed=by_change) }} as vehicles_on_file,
        {{ signed_count("churn_status = 'churned'", signed=by_change) }} as churned
    from aged
    group by scope_level, scope_code, stands_for_its_scopes, month_end, within_years
),

counted as (
    {{ in_every_scope('counted_as_stored',
                      ['month_end', 'within_years', 'industry_churn_rate', 'vehicles_on_file', 'churned'],
                      'stores_scoped') }}
    {%- if by_change %}
    -- What the replaced scope-months held before this build.
    union all
    select scope_level, scope_code, month_end, within_years, industry_churn_rate, vehicles_on_file, churned
    from {{ this }}
    where ({{ in_changed_scope_months() }}) and not ({{ in_months_of_the_data_date() }})
    {%- endif %}
),

summed as (
    select
        scope_level,
        scope_code,
        month_end,
        within_years,
        any_value(industry_churn_rate) as industry_churn_rate,
        cast(sum(vehicles_on_file) as bigint) as vehicles_on_file,
        cast(sum(churned) as bigint) as churned
    from counted
    group by scope_level, scope_code, month_end, within_years
    -- A span no sold vehicle of the scope-month is in any more.
    having sum(vehicles_on_file) > 0
),

final as (
    select
        scope_level,
        scope_code,
        month_end,
        cast(within_years as integer) as within_years,
        vehicles_on_file,
        churned,
        {{ safe_divide('churned', 'vehicles_on_file') }} as churn_rate,
        cast(industry_churn_rate as double) as industry_churn_rate,
        {{ safe_divide('churned', 'vehicles_on_file') }} > industry_churn_rate as is_above_industry_line
    from summed
)

select * from final
