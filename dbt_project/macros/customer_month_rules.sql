{#- The rules of a customer-month that read its as-of date (SPEC sections 6
    and 8). int_customer_months_classified applies them; int_vins_due applies
    them again at the new data date to the stored running month, to find the
    customers whose row the moved date alone changes; the survey
    classification takes the churn status on the survey date. One
    definition, so they cannot disagree. -#}

{% macro churn_status_at(as_of_date, at_risk_since='at_risk_since', churned_since='churned_since') -%}
    case
        when {{ as_of_date }} < {{ at_risk_since }} then 'active'
        when {{ as_of_date }} < {{ churned_since }} then 'at_risk'
        else 'churned'
    end
{%- endmacro %}

{#- Past the mileage-due date by more than the grace days; false without a
    trusted daily km (no due date). -#}
{% macro overdue_by_mileage_at(as_of_date, mileage_due_date='mileage_due_date') -%}
    coalesce({{ as_of_date }} > {{ mileage_due_date }} + {{ var('mileage_overdue_grace_days') }}, false)
{%- endmacro %}

{#- Bounds in docs/metrics.md (breakdowns). -#}
{% macro vehicle_age_band_at(as_of_date, purchase_date='purchase_date') -%}
    case
        when {{ purchase_date }} is null or {{ purchase_date }} > {{ as_of_date }} then 'unknown'
        when {{ purchase_date }} > cast({{ as_of_date }} - interval 1 year as date) then 'under_1y'
        when {{ purchase_date }} > cast({{ as_of_date }} - interval 2 year as date) then '1_2y'
        when {{ purchase_date }} > cast({{ as_of_date }} - interval 3 year as date) then '2_3y'
        when {{ purchase_date }} > cast({{ as_of_date }} - interval 5 year as date) then '3_5y'
        else '5y_plus'
    end
{%- endmacro %}
