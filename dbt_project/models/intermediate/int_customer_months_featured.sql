-- One row per store x VIN x month end M: what was known about the customer at
-- M (recency, frequency, regularity, spend and its trend, service mix,
-- mileage-due, vehicle age, insurance, the latest survey, the brand's
-- thresholds) and the outcome the churn risk score predicts (SPEC section
-- 8a): a qualifying visit in (M, M + 6 months], and whether those six months
-- have passed by the data date. Every feature reads data dated on or before
-- M (docs/metrics.md, "Churn risk score"). The month the data runs into is
-- featured at its end too, with the data known so far: the score predicts
-- the six months after M, and a customer's row then changes only when their
-- data does, not every day (docs/decisions.md, "The running month is scored
-- at its end").
--
-- Incremental (docs/decisions.md, "Incremental builds"): the customer-months
-- the build recomputes (new months, the months a changed vehicle's changes
-- reach, the running month of a vehicle whose status the moved data date
-- changes), the
-- month whose label completes between the previous data date and this one,
-- and the months of a vehicle a loaded or replaced insurance policy reaches
-- (in_rebuilt_feature_months).
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    written_rows='int_customer_months_featured_written',
    on_schema_change='fail',
    incremental_predicates=[in_rebuilt_feature_months()],
) }}
-- depends_on: {{ ref('int_build_window') }} {{ ref('int_vin_months_rebuilt') }} {{ ref('int_policy_vehicle_months_rebuilt') }}
{#- The as-of joins match a month's customer by store and VIN. -#}
{%- set customer = [('store_code', 'months.scope_code'), ('vin', 'months.vin')] %}
{#- An incremental build of a few customers reads their histories only; one
    of a new month of every customer reads them all. -#}
{%- set few_customers = is_incremental() and not build_adds_months() %}
with

customer_months as (
    {%- if is_incremental() %}
    -- The months int_customer_months_classified recomputed are the rows it
    -- kept of its part (their rows lie all over its table, in VIN order:
    -- fetching them from it read 35 rows for one; after a data date entered a
    -- new month, filtering it read all of it); the months only this model
    -- recomputes are looked up.
    select * from {{ recomputed_customer_months() }}
    where scope_level = 'store'
    union all
    {{ rows_where(ref('int_customer_months_classified'),
                  "scope_level = 'store' and (" ~ in_feature_months_only() ~ ") and not (" ~ in_rebuilt_customer_months() ~ ")",
                  few=few_customers) }}
    {%- else %}
    select * from {{ ref('int_customer_months_classified') }}
    where scope_level = 'store'
    {%- endif %}
),

data_dates as (
    select * from {{ ref('stg_reference__data_dates') }}
),
{%- if few_customers %}

-- The customers of the part this build recomputes: the histories below are
-- read for them only.
rebuilt_customers as (
    select distinct scope_code as store_code, vin from customer_months
),
{%- endif %}

-- Each visit at its store with the customer's running totals up to it, so a
-- month end reads its figures from the last visit on or before a date (an
-- as-of join) instead of joining every visit of a window.
visits_to_date as (
    select
        scope_code as store_code,
        vin,
        visit_date,
        count(*) over customer_so_far as visits_to_date,
        sum(revenue) over customer_so_far as revenue_to_date,
        count(case when service_type = 'maintenance' then 1 end) over customer_so_far as maintenance_visits_to_date,
        count(case when service_type in ('repair', 'bodywork') then 1 end) over customer_so_far
            as repair_bodywork_visits_to_date,
        sum(gap_days) over customer_so_far as gap_days_to_date,
        sum(gap_days * gap_days) over customer_so_far as gap_days_squared_to_date
    from (
        select
            *,
            {{ days_between('visit_date', 'lag(visit_date) over (partition by scope_code, vin order by visit_date)') }} as gap_days
        from {{ ref('int_vehicle_visits_scoped') }}
        where scope_level = 'store'
        {%- if few_customers %}
            and (scope_code, vin) in (select store_code, vin from rebuilt_customers)
        {%- endif %}
    )
    window customer_so_far as (
        partition by scope_code, vin
        order by visit_date
        rows between unbounded preceding and current row
    )
),

-- The store's latest commercial policy of the vehicle started on or before
-- a date, with its end and whether the store sold it.
commercial_policies as (
    select store_code, vin, start_date, end_date, sold_by_store
    from {{ ref('stg_insurance__policies') }}
    where policy_type = 'commercial'
    {%- if few_customers %}
        and (store_code, vin) in (select store_code, vin from rebuilt_customers)
    {%- endif %}
    -- One per start date (the as-of join cannot break ties): the longest, then the first number.
    qualify row_number() over (
        partition by store_code, vin, start_date order by end_date desc, policy_no
    ) = 1
),

reached_surveys as (
    select store_code, vin, survey_date, reason_list, serviced_at
    from {{ ref('stg_survey__responses') }}
    where reached
    {%- if few_customers %}
        and (store_code, vin) in (select store_code, vin from rebuilt_customers)
    {%- endif %}
    qualify row_number() over (
        partition by store_code, vin, survey_date order by surveyed_at desc, response_id desc
    ) = 1
),

months as (
    select
        customer_months.*,
        cast(last_day(customer_months.month_end - interval 12 month) as date) as year_before,
        cast(last_day(customer_months.month_end - interval 24 month) as date) as two_years_before,
        cast(last_day(customer_months.month_end + interval 6 month) as date) as label_window_end,
        data_dates.data_as_of_date
    from customer_months
    cross join data_dates
),

featured as (
    select
        months.scope_code as store_code,
        months.vin,
        months.month_end,
        months.customer_key,
        months.churn_status,
        months.annual_spend,
        {{ days_between('months.month_end', 'months.last_visit_date') }} as days_since_last_visit,
        now_.visits_to_date,
        now_.visits_to_date - coalesce(year_ago.visits_to_date, 0) as visits_last_12m,
        now_.visits_to_date - coalesce(two_years_ago.visits_to_date, 0) as visits_last_24m,
        -- Gaps between consecutive visits up to M: their mean and sample
        -- standard deviation (regularity), from running sums.
        case when now_.visits_to_date >= 2
            then now_.gap_days_to_date / (now_.visits_to_date - 1) end as mean_visit_gap_days,
        case when now_.visits_to_date >= 3
            then sqrt(greatest(
                (now_.gap_days_squared_to_date
                    - now_.gap_days_to_date * now_.gap_days_to_date / (now_.visits_to_date - 1))
                / (now_.visits_to_date - 2),
                0
            )) end as stddev_visit_gap_days,
        cast(now_.revenue_to_date - coalesce(year_ago.revenue_to_date, 0) as decimal(18, 2)) as spend_last_12m,
        cast(coalesce(year_ago.revenue_to_date, 0) - coalesce(two_years_ago.revenue_to_date, 0) as decimal(18, 2))
            as spend_previous_12m,
        now_.maintenance_visits_to_date / now_.visits_to_date as maintenance_share,
        now_.repair_bodywork_visits_to_date / now_.visits_to_date as repair_bodywork_share,
        -- Days past the mileage-due date (negative: days before it); NULL
        -- without a trusted daily km.
        {{ days_between('months.month_end', 'months.mileage_due_date') }} as days_past_mileage_due,
        months.overdue_by_mileage,
        -- No warranty end date in the vehicle master: the vehicle's age stands for it.
        case when months.purchase_date <= months.month_end
            then {{ days_between('months.month_end', 'months.purchase_date') }} / cast(365.25 as double) end
            as vehicle_age_years,
        months.sold_by_store as vehicle_sold_by_store,
        policy.end_date >= months.month_end as has_policy_in_force,
        policy.end_date >= months.month_end
            and policy.end_date <= cast(months.month_end + interval {{ var('churn_score_policy_expiring_within_months') }} month as date)
            as policy_expiring_soon,
        coalesce(policy.end_date >= months.month_end and policy.sold_by_store, false) as policy_bought_here,
        -- The latest reached survey up to M, when it came after the last visit.
        survey.survey_date > months.last_visit_date as has_survey_since_last_visit,
        coalesce(survey.survey_date > months.last_visit_date
            and {{ list_has_any_of('survey.reason_list', ["'service_attitude'", "'repair_quality'", "'waiting_time'"]) }}, false)
            as survey_says_service,
        coalesce(survey.survey_date > months.last_visit_date
            and array_contains(survey.reason_list, 'price'), false) as survey_says_price,
        coalesce(survey.survey_date > months.last_visit_date
            and array_contains(survey.reason_list, 'distance'), false) as survey_says_distance,
        coalesce(survey.survey_date > months.last_visit_date
            and {{ list_has_any_of('survey.reason_list', ["'vehicle_sold'", "'moved'"]) }}, false) as survey_says_sold_or_moved,
        coalesce(survey.survey_date > months.last_visit_date
            and {{ is_serviced_elsewhere('survey.serviced_at') }}, false) as survey_says_serviced_elsewhere,
        months.at_risk_after_months,
        months.churned_after_months,
        -- The label: a qualifying visit in (M, M + 6 months], known once the
        -- data date reaches the window's end.
        months.visits_in_next_six_months as returned_within_6m,
        months.label_window_end <= months.data_as_of_date as label_complete
    from months
    {{ asof_join('visits_to_date', 'now_', customer, 'visit_date', 'months.month_end') }}
    {{ asof_join('visits_to_date', 'year_ago', customer, 'visit_date', 'months.year_before', 'left') }}
    {{ asof_join('visits_to_date', 'two_years_ago', customer, 'visit_date', 'months.two_years_before', 'left') }}
    {{ asof_join('commercial_policies', 'policy', customer, 'start_date', 'months.month_end', 'left') }}
    {{ asof_join('reached_surveys', 'survey', customer, 'survey_date', 'months.month_end', 'left') }}
),

trended as (
    select
        *,
        spend_last_12m - spend_previous_12m as spend_trend
    from featured
),

final as (
    select
        *,
        -- What the churn models' fingerprints sum per month end: hashed here,
        -- for the rows a build writes, so the fitting does not hash every
        -- row of every month each build.
        {{ row_hash(var('churn_score_fit_inputs') | join(', ')) }} as fit_inputs_hash
    from trended
)

select * from final
