{#- The columns fct_customer_month and fct_group_customer_month publish after
    their keys, in contract order: one list, so the two marts cannot drift.
    The as-of date and the estimated mileage move with the data date, so the
    customer-months they are read from do not hold them (the comment in
    int_customer_months_classified.sql says why): they are derived here from
    the relation `data_dates` (stg_reference__data_dates) the mart joins. -#}
{% macro customer_month_columns(relation, data_dates='data_dates') -%}
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
    {%- set as_of = customer_month_as_of(relation ~ '.month_end', data_dates) -%}
    {%- for column in columns %}
        {%- if column == 'as_of_date' %}
        {{ as_of }} as as_of_date,
        {%- elif column == 'estimated_mileage_km' %}
        {{ estimated_mileage_km(relation, as_of) }} as estimated_mileage_km,
        {%- else %}
        {{ relation }}.{{ column }}{{ ',' if not loop.last }}
        {%- endif %}
    {%- endfor %}
{%- endmacro %}

{#- A month's as-of date (SPEC section 7): its end, or the last data date for
    the month the data runs into. -#}
{% macro customer_month_as_of(month_end, data_dates='data_dates') -%}
    least({{ month_end }}, {{ data_dates }}.data_as_of_date)
{%- endmacro %}

{#- The odometer at the as-of date, from the last reading and the daily km. -#}
{% macro estimated_mileage_km(relation, as_of) -%}
    cast(round(
        {{ relation }}.max_mileage_km
        + coalesce({{ relation }}.daily_km, 0) * {{ days_between(as_of, relation ~ '.last_reading_date') }}
    ) as integer)
{%- endmacro %}
