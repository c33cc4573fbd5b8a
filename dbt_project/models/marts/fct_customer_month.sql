-- One row per store x VIN x month end (SPEC sections 6 and 10): the month's
-- visits and money, and the customer's churn status as of the month's end
-- (or, for the month the data runs into, as of the last data date).
with

customer_months as (
    select * from {{ ref('int_customer_months_spined') }}
),

vehicles as (
    select * from {{ ref('stg_dms__vehicles') }}
),

stores as (
    select * from {{ ref('stg_reference__stores') }}
),

latest_ro_owner as (
    select store_code, vin, arg_max(customer_id, opened_at) as customer_id
    from {{ ref('stg_dms__repair_orders') }}
    group by store_code, vin
),

rules as (
    select * from {{ ref('churn_rules') }}
),

reached_surveys as (
    select * from {{ ref('stg_survey__responses') }}
    where reached
),

attributed as (
    select
        customer_months.*,
        coalesce(vehicles.customer_id, latest_ro_owner.customer_id) as customer_id,
        coalesce(vehicles.brand, stores.brand) as brand,
        vehicles.model
    from customer_months
    left join vehicles using (store_code, vin)
    left join stores using (store_code)
    left join latest_ro_owner using (store_code, vin)
),

-- Thresholds: a model's own row, else its brand's, else the project defaults.
with_rules as (
    select
        attributed.*,
        coalesce(model_rule.at_risk_after_months, brand_rule.at_risk_after_months,
                 {{ var('default_at_risk_after_months') }}) as at_risk_after_months,
        coalesce(model_rule.churned_after_months, brand_rule.churned_after_months,
                 {{ var('default_churned_after_months') }}) as churned_after_months,
        coalesce(model_rule.service_interval_months, brand_rule.service_interval_months,
                 {{ var('default_service_interval_months') }}) as service_interval_months,
        coalesce(model_rule.service_interval_km, brand_rule.service_interval_km,
                 {{ var('default_service_interval_km') }}) as service_interval_km
    from attributed
    left join rules as model_rule
        on model_rule.brand = attributed.brand and model_rule.model = attributed.model
    left join rules as brand_rule
        on brand_rule.brand = attributed.brand and brand_rule.model is null
),

classified as (
    select
        *,
        -- Calendar month arithmetic with end-of-month clamping (Aug 31 + 6
        -- months = Feb 28/29), as DuckDB's date + interval does.
        case
            when as_of_date < cast(last_visit_date + to_months(at_risk_after_months) as date) then 'active'
            when as_of_date < cast(last_visit_date + to_months(churned_after_months) as date) then 'at_risk'
            else 'churned'
        end as churn_status,
        -- Daily km from the first and last visits with a mileage reading, when
        -- they are far enough apart to be trusted (SPEC section 6).
        case
            when last_reading_date - first_reading_date >= {{ var('mileage_min_days_between_visits') }}
                then (max_mileage_km - min_mileage_km) / (last_reading_date - first_reading_date)
        end as daily_km
    from with_rules
),

with_mileage as (
    select
        *,
        -- Due = L + the sooner of the month interval and the days the km
        -- interval lasts at this daily km. Whole days: the visit dates are
        -- whole, so flooring the days changes no comparison with them.
        case
            when daily_km is null then null
            when daily_km <= 0 then cast(last_visit_date + to_months(service_interval_months) as date)
            else least(
                cast(last_visit_date + to_months(service_interval_months) as date),
                cast(last_visit_date + cast(floor(service_interval_km / daily_km) as integer) as date)
            )
        end as mileage_due_date
    from classified
),

latest_survey as (
    select
        with_mileage.store_code,
        with_mileage.vin,
        with_mileage.month_end,
        reached_surveys.reason_list,
        reached_surveys.serviced_at
    from with_mileage
    inner join reached_surveys
        on reached_surveys.store_code = with_mileage.store_code
        and reached_surveys.vin = with_mileage.vin
        and reached_surveys.survey_date > with_mileage.last_visit_date
        and reached_surveys.survey_date <= with_mileage.as_of_date
    qualify row_number() over (
        partition by with_mileage.store_code, with_mileage.vin, with_mileage.month_end
        order by reached_surveys.surveyed_at desc, reached_surveys.response_id desc
    ) = 1
),

final as (
    select
        with_mileage.store_code,
        with_mileage.vin,
        with_mileage.month_end,
        with_mileage.as_of_date,
        {{ pseudonym("with_mileage.store_code || '|' || coalesce(with_mileage.customer_id, with_mileage.vin)") }}
            as customer_key,
        with_mileage.brand,
        with_mileage.model,
        with_mileage.visits,
        with_mileage.paid_visits,
        with_mileage.revenue,
        with_mileage.labor_amount,
        with_mileage.parts_amount,
        with_mileage.parts_cost,
        with_mileage.first_visit_date,
        with_mileage.last_visit_date,
        with_mileage.last_service_type,
        coalesce(with_mileage.annual_spend, 0) as annual_spend,
        with_mileage.churn_status,
        last_day(with_mileage.first_visit_date) = with_mileage.month_end as is_new,
        with_mileage.visits > 0
            and coalesce(lag(with_mileage.churn_status) over customer_history = 'churned', false) as is_won_back,
        with_mileage.visits_in_next_six_months,
        with_mileage.daily_km,
        with_mileage.mileage_due_date,
        coalesce(
            with_mileage.as_of_date > with_mileage.mileage_due_date + {{ var('mileage_overdue_grace_days') }},
            false
        ) as overdue_by_mileage,
        with_mileage.churn_status = 'active' and coalesce(
            with_mileage.as_of_date > with_mileage.mileage_due_date + {{ var('mileage_overdue_grace_days') }},
            false
        ) as is_hidden_churn,
        case
            when latest_survey.reason_list is null then null
            when list_has_any(latest_survey.reason_list, ['vehicle_sold', 'moved']) then 'natural'
            when latest_survey.reason_list = ['insurer_assigned'] then 'insurer_assigned'
            when latest_survey.serviced_at in
                ('other_same_brand_4s', 'other_brand_4s', 'independent_shop', 'chain_shop', 'other')
                then 'competitor'
            else 'unknown'
        end as loss_type
    from with_mileage
    left join latest_survey
        on latest_survey.store_code = with_mileage.store_code
        and latest_survey.vin = with_mileage.vin
        and latest_survey.month_end = with_mileage.month_end
    window customer_history as (partition by with_mileage.store_code, with_mileage.vin order by with_mileage.month_end)
)

select * from final
