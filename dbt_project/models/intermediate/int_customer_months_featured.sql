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
        cast(last_day(customer_months.month_end + interval 6 month) as date) as label_window_end,
        data_dates.data_as_of_date
    from customer_months
    cross join data_dates
),

-- What the visits, policies and surveys said at each customer-month, looked
-- up on its keys alone and joined back to its row: an as-of join sorts its
-- left side with every column it carries, and five of them carrying the
-- whole row took twice as long (docs/decisions.md, "The churn features'
-- as-of joins carry the keys only").
looked_up as (
    select
        months.scope_code,
        months.vin,
        months.month_end,
        now_.visits_to_date,
        now_.revenue_to_date,
        now_.maintenance_visits_to_date,
        now_.repair_bodywork_visits_to_date,
        now_.gap_days_to_date,
        now_.gap_days_squared_to_date,
        year_ago.visits_to_date as visits_to_year_ago,
        year_ago.revenue_to_date as revenue_to_year_ago,
        two_years_ago.visits_to_date as visits_to_two_years_ago,
        two_years_ago.revenue_to_date as revenue_to_two_years_ago,
        policy.end_date as policy_end_date,
        policy.sold_by_store as policy_sold_by_store,
        survey.survey_date,
        survey.reason_list as survey_reason_list,
        survey.serviced_at as survey_serviced_at
    from (
        select
            scope_code,
            vin,
            month_end,
            cast(last_day(month_end - interval 12 month) as date) as year_before,
            cast(last_day(month_end - interval 24 month) as date) as two_years_before
        from customer_months
    ) as months
    {{ asof_join('visits_to_date', 'now_', customer, 'visit_date', 'months.month_end') }}
    {{ asof_join('visits_to_date', 'year_ago', customer, 'visit_date', 'months.year_before', 'left') }}
    {{ asof_join('visits_to_date', 'two_years_ago', customer, 'visit_date', 'months.two_years_before', 'left') }}
    {{ asof_join('commercial_policies', 'policy', customer, 'start_date', 'months.month_end', 'left') }}
    {{ asof_join('reached_surveys', 'survey', customer, 'survey_date', 'months.month_end', 'left') }}
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
        looked_up.visits_to_date,
        looked_up.visits_to_date - coalesce(looked_up.visits_to_year_ago, 0) as visits_last_12m,
        looked_up.visits_to_date - coalesce(looked_up.visits_to_two_years_ago, 0) as visits_last_24m,
        -- Gaps between consecutive visits up to M: their mean and sample
        -- standard deviation (regularity), from running sums.
        case when looked_up.visits_to_date >= 2
            then looked_up.gap_days_to_date / (looked_up.visits_to_date - 1) end as mean_visit_gap_days,
        case when looked_up.visits_to_date >= 3
            then sqrt(greatest(
                (looked_up.gap_days_squared_to_date
                    - looked_up.gap_days_to_date * looked_up.gap_days_to_date / (looked_up.visits_to_date - 1))
                / (looked_up.visits_to_date - 2),
                0
            )) end as stddev_visit_gap_days,
        cast(looked_up.revenue_to_date - coalesce(looked_up.revenue_to_year_ago, 0) as decimal(18, 2)) as spend_last_12m,
        cast(coalesce(looked_up.revenue_to_year_ago, 0) - coalesce(looked_up.revenue_to_two_years_ago, 0) as decimal(18, 2))
            as spend_previous_12m,
        looked_up.maintenance_visits_to_date / looked_up.visits_to_date as maintenance_share,
        looked_up.repair_bodywork_visits_to_date / looked_up.visits_to_date as repair_bodywork_share,
        -- Days past the mileage-due date (negative: days before it); NULL
        -- without a trusted daily km.
        {{ days_between('months.month_end', 'months.mileage_due_date') }} as days_past_mileage_due,
        months.overdue_by_mileage,
        -- No warranty end date in the vehicle master: the vehicle's age stands for it.
        case when months.purchase_date <= months.month_end
            then {{ days_between('months.month_end', 'months.purchase_date') }} / cast(365.25 as double) end
            as vehicle_age_years,
        months.sold_by_store as vehicle_sold_by_store,
        looked_up.policy_end_date >= months.month_end as has_policy_in_force,
        looked_up.policy_end_date >= months.month_end
            and looked_up.policy_end_date <= cast(months.month_end + interval {{ var('churn_score_policy_expiring_within_months') }} month as date)
            as policy_expiring_soon,
        coalesce(looked_up.policy_end_date >= months.month_end and looked_up.policy_sold_by_store, false) as policy_bought_here,
        -- The latest reached survey up to M, when it came after the last visit.
        looked_up.survey_date > months.last_visit_date as has_survey_since_last_visit,
        coalesce(looked_up.survey_date > months.last_visit_date
            and {{ list_has_any_of('looked_up.survey_reason_list', ["'service_attitude'", "'repair_quality'", "'waiting_time'"]) }}, false)
            as survey_says_service,
        coalesce(looked_up.survey_date > months.last_visit_date
            and array_contains(looked_up.survey_reason_list, 'price'), false) as survey_says_price,
        coalesce(looked_up.survey_date > months.last_visit_date
            and array_contains(looked_up.survey_reason_list, 'distance'), false) as survey_says_distance,
        coalesce(looked_up.survey_date > months.last_visit_date
            and {{ list_has_any_of('looked_up.survey_reason_list', ["'vehicle_sold'", "'moved'"]) }}, false) as survey_says_sold_or_moved,
        coalesce(looked_up.survey_date > months.last_visit_date
            and {{ is_serviced_elsewhere('looked_up.survey_serviced_at') }}, false) as survey_says_serviced_elsewhere,
        months.at_risk_after_months,
        months.churned_after_months,
        -- The label: a qualifying visit in (M, M + 6 months], known once the
        -- data date reaches the window's end.
        months.visits_in_next_six_months as returned_within_6m,
        months.label_window_end <= months.data_as_of_date as label_complete
    from months
    inner join looked_up
        on looked_up.scope_code = months.scope_code
        and looked_up.vin = months.vin
        and looked_up.month_end = months.month_end
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
