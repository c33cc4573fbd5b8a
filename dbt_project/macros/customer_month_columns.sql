{#- The columns fct_customer_month and fct_group_customer_month publish after
    their keys, in contract order: one list, so the two marts cannot drift. -#}
{% macro customer_month_columns(relation) -%}
    {%- set columns = [
        'as_of_date', 'customer_key', 'brand', 'model',
        'visits', 'paid_visits', 'revenue', 'labor_amount', 'parts_amount', 'parts_cost',
        'first_visit_date', 'last_visit_date', 'last_service_type',
        'annual_spend', 'visits_in_year', 'total_visits', 'lifetime_revenue',
        'at_risk_after_months', 'churned_after_months', 'at_risk_since', 'churned_since',
        'churn_status', 'is_new', 'is_won_back', 'is_newly_churned', 'visits_in_next_six_months',
        'daily_km', 'estimated_mileage_km', 'mileage_due_date', 'overdue_by_mileage', 'is_hidden_churn',
        'last_survey_date', 'loss_type', 'is_group_transfer', 'loss_destination',
        'customer_type', 'occupation', 'gender', 'age_band', 'district',
        'purchase_date', 'sold_by_store', 'vehicle_age_band', 'visits_per_year_band', 'annual_spend_band',
    ] -%}
    {%- for column in columns %}
        {{ relation }}.{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}
