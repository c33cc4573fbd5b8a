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
    {%- if is_incremental() %}
    where {{ in_changed_scope_months() }}
    {%- endif %}
),

counted as (
    {%- for dimension, column in dimensions.items() %}
    select
        scope_level,
        scope_code,
        month_end,
        '{{ dimension }}' as dimension,
        coalesce(cast({{ column }} as varchar), 'unknown') as dimension_value,
        count(*) as on_file,
        count(*) filter (where churn_status = 'active') as active,
        count(*) filter (where churn_status = 'at_risk') as at_risk,
        count(*) filter (where churn_status = 'churned') as churned,
        count(*) filter (where is_newly_churned) as newly_churned,
        count(*) filter (where is_hidden_churn) as hidden_churn,
        cast(coalesce(sum(annual_spend) filter (where churn_status = 'churned'), 0) as decimal(18, 2))
            as churned_annual_spend,
        cast(coalesce(sum(annual_spend), 0) as decimal(18, 2)) as on_file_annual_spend
    from customer_months
    group by all
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

final as (
    select
        *,
        {{ safe_divide('churned', 'on_file') }} as churn_rate,
        {{ safe_divide('churned_annual_spend', 'on_file_annual_spend') }} as value_weighted_churn_rate
    from counted
)

select * from final
