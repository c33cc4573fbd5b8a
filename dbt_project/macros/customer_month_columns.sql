{#- The columns fct_customer_month and fct_group_customer_month publish after
    their keys, in contract order: one list, so the two marts cannot drift.
    The as-of date and the estimated mileage move with the data date, so the
    tables the marts read (fct_customer_month_stored and its group twin) do
    not hold them: a day would otherwise rewrite every customer's row of the
    running month (docs/decisions.md, "The customer-month marts are views").
    The marts are views that derive them from the stored row and the data
    date (marts.data_date); the stored tables hold, in their place, what the
    mileage is estimated from. -#}
{% macro customer_month_column_names() -%}
    {{ return([
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
    ]) }}
{%- endmacro %}

{#- The published columns that move with the data date, and what the stored
    tables hold to derive them. -#}
{% macro customer_month_moving_columns() -%}
    {{ return(['as_of_date', 'estimated_mileage_km']) }}
{%- endmacro %}
{% macro customer_month_mileage_columns() -%}
    {{ return(['max_mileage_km', 'last_reading_date']) }}
{%- endmacro %}

{#- The stored tables' columns after their keys, read from `relation`. -#}
{% macro customer_month_stored_columns(relation) -%}
    {%- set columns = customer_month_column_names() | reject('in', customer_month_moving_columns()) | list
        + customer_month_mileage_columns() -%}
    {%- for column in columns %}
        {{ relation }}.{{ column }}{{ ',' if not loop.last }}
    {%- endfor %}
{%- endmacro %}

{#- The published columns after the keys, from a stored table `relation` and
    the relation `data_date` (marts.data_date) the view joins. -#}
{% macro customer_month_columns(relation, data_date='data_date') -%}
    {%- set as_of = customer_month_as_of(relation ~ '.month_end', data_date) -%}
    {%- for column in customer_month_column_names() %}
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

{#- The odometer at the as-of date, from the last reading and the daily km,
    rounded half up: floor(x + 0.5), which DuckDB, Spark and PostgreSQL
    compute alike (PostgreSQL's round of a double rounds half to even; the
    customer-month views run there as they are). Never negative: the reading
    is on or before the as-of date. -#}
{% macro estimated_mileage_km(relation, as_of) -%}
    cast(floor(
        {{ relation }}.max_mileage_km
        + coalesce({{ relation }}.daily_km, 0) * {{ days_between(as_of, relation ~ '.last_reading_date') }}
        + 0.5
    ) as integer)
{%- endmacro %}

{#- The customer-month marts are views on DuckDB (and so in the published
    file and on PostgreSQL, which copy them). On Spark they are tables: its
    tables are copied into the working copy as Parquet (orchestration/spark). -#}
{% macro moving_columns_materialized() -%}
    {{ return('table' if target.type == 'spark' else 'view') }}
{%- endmacro %}

{#- A relation named without its database: a view's query names its schema
    and table only, so that it reads the tables of the file it is in, under
    whatever name the file is attached (the published file, opened by an
    analyst), and PostgreSQL can create it as it is (orchestration/postgres).
    Spark: as it is. -#}
{% macro without_database(relation) -%}
    {{ return(relation if target.type == 'spark' else relation.include(database=false)) }}
{%- endmacro %}
