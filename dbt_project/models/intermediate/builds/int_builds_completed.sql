-- One row per build that completed: the window it built (int_build_window).
-- It runs after every incremental model (the depends_on lines below), so a
-- build that failed part-way leaves no row here, and the next build, not
-- finding its predecessor, recomputes everything.
-- depends_on: {{ ref('stg_dms__repair_orders') }}
-- depends_on: {{ ref('stg_dms__repair_order_lines') }}
-- depends_on: {{ ref('int_visits_aggregated_to_days') }}
-- depends_on: {{ ref('int_vehicle_visits_scoped') }}
-- depends_on: {{ ref('int_customer_months_classified') }}
-- depends_on: {{ ref('int_kpis_aggregated_to_scope_months') }}
-- depends_on: {{ ref('fct_customer_month_stored') }}
-- depends_on: {{ ref('fct_group_customer_month_stored') }}
-- depends_on: {{ ref('kpi_churn_breakdown_month') }}
-- depends_on: {{ ref('kpi_vehicle_age_churn_month') }}
-- depends_on: {{ ref('stg_dms__customers') }}
-- depends_on: {{ ref('stg_dms__vehicles') }}
-- depends_on: {{ ref('stg_insurance__policies') }}
-- depends_on: {{ ref('stg_survey__responses') }}
-- depends_on: {{ ref('int_repair_orders_familied') }}
-- depends_on: {{ ref('kpi_service_family_month') }}
-- depends_on: {{ ref('int_vehicles_ruled') }}
-- depends_on: {{ ref('int_policies_renewals_matched') }}
-- depends_on: {{ ref('int_customer_months_featured') }}
-- depends_on: {{ ref('int_churn_scores_predicted') }}
-- depends_on: {{ ref('churn_scores') }}
-- depends_on: {{ ref('churn_score_backtest') }}
-- depends_on: {{ ref('churn_score_calibration') }}
-- depends_on: {{ ref('int_campaign_customers_measured') }}
-- depends_on: {{ ref('int_survey_responses_classified') }}
{{ config(materialized='incremental', incremental_strategy='append') }}
with

build_window as (
    select * from {{ ref('int_build_window') }}
),

final as (
    select
        build_id,
        loaded_through,
        data_as_of_date,
        fingerprint,
        is_full_rebuild,
        rebuild_from_month_end,
        current_timestamp::timestamp as completed_at
    from build_window
)

select * from final
