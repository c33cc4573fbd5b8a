-- One row per store x VIN x scored month end (SPEC section 8a): the
-- probability of a qualifying visit in the six months after the month end,
-- scored from what was known at it by a model fitted only on outcomes
-- complete then; the annual spend that probability puts at risk; and the
-- three reasons that move this customer's score most (docs/metrics.md,
-- "Churn risk score").
--
-- Incremental (docs/decisions.md, "Incremental builds"): a build recomputes
-- the scores in_rescored_scores() names and writes only the rows that
-- changed; their keys go to intermediate.int_churn_scores_changed (the rows
-- they replace to intermediate.int_churn_scores_previous, the new rows to
-- intermediate.int_churn_scores_written), from which the backtest and
-- calibration recompute their scope-months.
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    incremental_strategy='replace_changed',
    unique_key=['store_code', 'vin', 'month_end'],
    changed_keys='int_churn_scores_changed',
    previous_rows='int_churn_scores_previous',
    written_rows='int_churn_scores_written',
    incremental_predicates=[in_rescored_scores()],
    post_hook=[
        "{{ replace_changed_relation('changed_keys') }}",
        "{{ replace_changed_relation('previous_rows') }}",
        "{{ replace_changed_relation('written_rows') }}",
    ],
) }}
-- depends_on: {{ ref('int_build_window') }} {{ ref('int_vin_months_rebuilt') }} {{ ref('int_churn_scores_due') }}
with

predicted as (
    select * from {{ ref('int_churn_scores_predicted') }}
    {%- if is_incremental() %}
    where {{ in_rescored_scores() }}
    {%- endif %}
),

featured as (
    select * from {{ ref('int_customer_months_featured') }}
),

final as (
    select
        predicted.store_code,
        predicted.vin,
        cast(predicted.month_end as date) as month_end,
        featured.customer_key,
        predicted.p_return,
        cast(round((1 - predicted.p_return) * featured.annual_spend, 2) as decimal(18, 2)) as expected_value_at_risk,
        featured.annual_spend,
        featured.churn_status,
        featured.days_since_last_visit,
        predicted.reason_1,
        predicted.reason_1_effect,
        predicted.reason_2,
        predicted.reason_2_effect,
        predicted.reason_3,
        predicted.reason_3_effect,
        cast(predicted.fitted_through as date) as fitted_through,
        featured.label_complete,
        case when featured.label_complete then featured.returned_within_6m end as returned_within_6m
    from predicted
    inner join featured
        on featured.store_code = predicted.store_code
        and featured.vin = predicted.vin
        and featured.month_end = cast(predicted.month_end as date)
)

select * from final
{{ stored_in_order_of('month_end') }}
