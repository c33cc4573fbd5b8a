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

-- What each month of the customer's history adds to the features: its
-- visits and revenue, the running totals at its last visit, the store's
-- latest commercial policy started in it and the latest reached survey in
-- it. A month end's features are windows over these months (month_index:
-- months since year 0): the 12 and 24 months before it are a range of
-- months, and what holds at it is the latest month's state up to it. No
-- month end is joined to the visits, policies and surveys themselves (five
-- as-of joins, each sorting every month end: docs/decisions.md, "The churn
-- features are windows over months").
visit_months as (
    select
        store_code,
        vin,
        {{ month_index('visit_date') }} as month_index,
        count(*) as visits,
        sum(revenue) as revenue,
        {{ value_of_last(struct_of([
            ('maintenance_visits_to_date', 'maintenance_visits_to_date'),
            ('repair_bodywork_visits_to_date', 'repair_bodywork_visits_to_date'),
            ('gap_days_squared_to_date', 'gap_days_squared_to_date')]), ['visit_date']) }} as visit_state
    from (
        select
            scope_code as store_code,
            vin,
            visit_date,
            revenue,
            count(case when service_type = 'maintenance' then 1 end) over customer_so_far as maintenance_visits_to_date,
            count(case when service_type in ('repair', 'bodywork') then 1 end) over customer_so_far
                as repair_bodywork_visits_to_date,
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
    )
    group by store_code, vin, {{ month_index('visit_date') }}
),

-- The store's latest commercial policy of the vehicle started in each month:
-- its end, and whether the store sold it (NULL counts as not).
policy_months as (
    select
        store_code,
        vin,
        {{ month_index('start_date') }} as month_index,
        {{ value_of_last(struct_of([
            ('end_date', 'end_date'), ('sold_by_store', 'coalesce(sold_by_store, false)')]), ['start_date']) }}
            as policy_state
    from (
        select store_code, vin, start_date, end_date, sold_by_store
        from {{ ref('stg_insurance__policies') }}
        where policy_type = 'commercial'
        {%- if few_customers %}
            and (store_code, vin) in (select store_code, vin from rebuilt_customers)
        {%- endif %}
        -- One per start date: the longest, then the first number.
        qualify row_number() over (
            partition by store_code, vin, start_date order by end_date desc, policy_no
        ) = 1
    )
    group by store_code, vin, {{ month_index('start_date') }}
),

-- The latest reached survey of each month (the last surveyed, then the
-- highest id): its date and what it says (each FALSE when its list or
-- answer is empty).
survey_months as (
    select
        store_code,
        vin,
        {{ month_index('survey_date') }} as month_index,
        {{ value_of_last(struct_of([
            ('survey_date', 'survey_date'),
            ('says_service', "coalesce(" ~ list_has_any_of('reason_list', ["'service_attitude'", "'repair_quality'", "'waiting_time'"]) ~ ", false)"),
            ('says_price', "coalesce(array_contains(reason_list, 'price'), false)"),
            ('says_distance', "coalesce(array_contains(reason_list, 'distance'), false)"),
            ('says_sold_or_moved', "coalesce(" ~ list_has_any_of('reason_list', ["'vehicle_sold'", "'moved'"]) ~ ", false)"),
            ('says_serviced_elsewhere', "coalesce(" ~ is_serviced_elsewhere('serviced_at') ~ ", false)")]),
            ['surveyed_at', 'response_id']) }}
            as survey_state
    from {{ ref('stg_survey__responses') }}
    where reached
    {%- if few_customers %}
        and (store_code, vin) in (select store_code, vin from rebuilt_customers)
    {%- endif %}
    group by store_code, vin, {{ month_index('survey_date') }}
),

-- The month ends and the months of history in one list per customer: the
-- month ends carry their own columns, the history months what they add.
{%- set month_columns = [
    'customer_key', 'churn_status', 'annual_spend', 'first_visit_date', 'last_visit_date', 'total_visits',
    'mileage_due_date', 'overdue_by_mileage', 'purchase_date', 'sold_by_store', 'at_risk_after_months',
    'churned_after_months', 'visits_in_next_six_months'] %}
{%- set history_columns_of = {
    'visit_months': ['visits', 'revenue', 'visit_state'],
    'policy_months': ['policy_state'],
    'survey_months': ['survey_state']} %}
{%- set history_columns = history_columns_of.values() | sum(start=[]) %}
months_and_history as (
    select
        scope_code as store_code,
        vin,
        {{ month_index('month_end') }} as month_index,
        month_end,
        {%- for column in month_columns %}
        {{ column }},
        {%- endfor %}
        {%- for column in history_columns %}
        null as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from customer_months
    {%- for history, columns in history_columns_of.items() %}
    union all
    select
        store_code,
        vin,
        month_index,
        null as month_end,
        {%- for column in month_columns %}
        null as {{ column }},
        {%- endfor %}
        {%- for column in history_columns %}
        {{ column if column in columns else 'null' }} as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ history }}
    {%- endfor %}
),

-- Each month end with the visits and revenue of the 12 and 24 months up to
-- it and of the 12 before those, and the latest visit, policy and survey
-- state up to it.
windowed as (
    select
        *,
        sum(visits) over last_12_months as visits_in_last_12_months,
        sum(visits) over last_24_months as visits_in_last_24_months,
        sum(revenue) over last_12_months as revenue_in_last_12_months,
        sum(revenue) over previous_12_months as revenue_in_previous_12_months,
        {{ last_not_null('visit_state') }} over up_to_month as latest_visit_state,
        {{ last_not_null('policy_state') }} over up_to_month as policy,
        {{ last_not_null('survey_state') }} over up_to_month as survey
    from months_and_history
    window
        up_to_month as (partition by store_code, vin order by month_index range between unbounded preceding and current row),
        last_12_months as (partition by store_code, vin order by month_index range between 11 preceding and current row),
        last_24_months as (partition by store_code, vin order by month_index range between 23 preceding and current row),
        previous_12_months as (partition by store_code, vin order by month_index range between 23 preceding and 12 preceding)
),

-- The month ends, with the running totals at the last visit on or before
-- each (total_visits counts the visits to date; the gaps between them add
-- up to the days from the first to the last).
months as (
    select
        windowed.*,
        windowed.total_visits as visits_to_date,
        {{ days_between('windowed.last_visit_date', 'windowed.first_visit_date') }} as gap_days_to_date,
        windowed.latest_visit_state.maintenance_visits_to_date,
        windowed.latest_visit_state.repair_bodywork_visits_to_date,
        windowed.latest_visit_state.gap_days_squared_to_date,
        data_dates.data_as_of_date
    from windowed
    cross join data_dates
    where windowed.month_end is not null
),

featured as (
    select
        store_code,
        vin,
        month_end,
        customer_key,
        churn_status,
        annual_spend,
        {{ days_between('month_end', 'last_visit_date') }} as days_since_last_visit,
        visits_to_date,
        cast(coalesce(visits_in_last_12_months, 0) as bigint) as visits_last_12m,
        cast(coalesce(visits_in_last_24_months, 0) as bigint) as visits_last_24m,
        -- Gaps between consecutive visits up to M: their mean and sample
        -- standard deviation (regularity), from running sums.
        case when visits_to_date >= 2
            then gap_days_to_date / (visits_to_date - 1) end as mean_visit_gap_days,
        case when visits_to_date >= 3
            then sqrt(greatest(
                (gap_days_squared_to_date
                    - gap_days_to_date * gap_days_to_date / (visits_to_date - 1))
                / (visits_to_date - 2),
                0
            )) end as stddev_visit_gap_days,
        cast(coalesce(revenue_in_last_12_months, 0) as decimal(18, 2)) as spend_last_12m,
        cast(coalesce(revenue_in_previous_12_months, 0) as decimal(18, 2)) as spend_previous_12m,
        maintenance_visits_to_date / visits_to_date as maintenance_share,
        repair_bodywork_visits_to_date / visits_to_date as repair_bodywork_share,
        -- Days past the mileage-due date (negative: days before it); NULL
        -- without a trusted daily km.
        {{ days_between('month_end', 'mileage_due_date') }} as days_past_mileage_due,
        overdue_by_mileage,
        -- No warranty end date in the vehicle master: the vehicle's age stands for it.
        case when purchase_date <= month_end
            then {{ days_between('month_end', 'purchase_date') }} / cast(365.25 as double) end
            as vehicle_age_years,
        sold_by_store as vehicle_sold_by_store,
        policy.end_date >= month_end as has_policy_in_force,
        policy.end_date >= month_end
            and policy.end_date <= cast(month_end + interval {{ var('churn_score_policy_expiring_within_months') }} month as date)
            as policy_expiring_soon,
        coalesce(policy.end_date >= month_end and policy.sold_by_store, false) as policy_bought_here,
        -- The latest reached survey up to M, when it came after the last visit.
        survey.survey_date > last_visit_date as has_survey_since_last_visit,
        {%- for reason in ['service', 'price', 'distance', 'sold_or_moved', 'serviced_elsewhere'] %}
        coalesce(survey.survey_date > last_visit_date and survey.says_{{ reason }}, false) as survey_says_{{ reason }},
        {%- endfor %}
        at_risk_after_months,
        churned_after_months,
        -- The label: a qualifying visit in (M, M + 6 months], known once the
        -- data date reaches the window's end.
        visits_in_next_six_months as returned_within_6m,
        cast(last_day(month_end + interval 6 month) as date) <= data_as_of_date as label_complete
    from months
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
