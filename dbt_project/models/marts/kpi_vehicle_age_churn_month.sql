-- One row per scope x month end x vehicle age (within 1, 2, 3 years): churn
-- of the vehicles the scope's stores sold, against the industry line (seed
-- 003: under 5% within one year, 8% within two, 12% within three; seed
-- industry_churn_lines). "Within n years" = purchase_date in (D - n years, D],
-- D the as-of date, among the customers on file; the spans nest.
-- Incremental: a build recomputes the scope-months with a changed customer-month.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    on_schema_change='fail',
    incremental_predicates=[in_changed_scope_months()],
) }}
with

customer_months as (
    select * from {{ ref('int_customer_months_classified') }}
    where sold_by_store
    {%- if is_incremental() %}
        and ({{ in_changed_scope_months() }})
    {%- endif %}
),

industry_lines as (
    select * from {{ ref('industry_churn_lines') }}
),

aged as (
    select
        customer_months.scope_level,
        customer_months.scope_code,
        customer_months.month_end,
        industry_lines.within_years,
        industry_lines.industry_churn_rate,
        customer_months.churn_status
    from customer_months
    inner join industry_lines
        on customer_months.purchase_date
            > cast(customer_months.as_of_date - to_years(industry_lines.within_years) as date)
        and customer_months.purchase_date <= customer_months.as_of_date
),

counted as (
    select
        scope_level,
        scope_code,
        month_end,
        within_years,
        any_value(industry_churn_rate) as industry_churn_rate,
        count(*) as vehicles_on_file,
        count(*) filter (where churn_status = 'churned') as churned
    from aged
    group by scope_level, scope_code, month_end, within_years
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
    from counted
)

select * from final
