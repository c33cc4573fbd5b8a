-- One row per VIN, not changed by this build's drops (int_vins_changed),
-- whose customer-months of the month of the previous data date the move of
-- the data date alone changes (docs/decisions.md, "Incremental builds").
-- That month's as-of date moves with the data date; the rest of such a
-- customer's row is fixed by visits and records that have not changed. So
-- its row changes only when the new as-of date crosses a threshold: the
-- churn status (at risk, churned), the mileage overdue flag, a vehicle-age
-- band, or the date of a survey already loaded. Found by applying the same
-- rules (customer_month_rules.sql) to the stored rows at the new as-of date.
-- Everyone else keeps that month's row as it is, and only gets the months
-- after it when the data date enters a new month. Empty on a full rebuild,
-- which recomputes every customer-month anyway.
{%- set classified = stored_customer_months() %}
-- depends_on: {{ ref('int_vins_changed') }}
with

build_window as (
    select * from {{ ref('int_build_window') }}
),

data_dates as (
    select * from {{ ref('stg_reference__data_dates') }}
),

reached_surveys as (
    select vin, survey_date from {{ ref('stg_survey__responses') }}
    where reached
),

{%- if classified is not none %}

-- The stored rows of that month, with their as-of date at the new data date.
running_months as (
    select
        stored.*,
        least(stored.month_end, data_dates.data_as_of_date) as new_as_of_date
    from {{ classified }} as stored
    cross join data_dates
    where stored.month_end = (select rebuild_from_month_end from build_window where not is_full_rebuild)
),

crossed as (
    select vin
    from running_months
    where {{ churn_status_at('new_as_of_date') }} <> churn_status
        or {{ overdue_by_mileage_at('new_as_of_date') }} <> overdue_by_mileage
        or {{ vehicle_age_band_at('new_as_of_date') }} <> vehicle_age_band
),

{%- else %}

crossed as (
    select null::string as vin where false
),

{%- endif %}

-- A response dated after the previous data date but loaded before it (a
-- survey desk that records the day's calls in advance) enters the month's
-- latest survey only now.
surveyed as (
    select reached_surveys.vin
    from reached_surveys
    cross join build_window
    cross join data_dates
    where not build_window.is_full_rebuild
        and reached_surveys.survey_date > build_window.previous_data_as_of_date
        and reached_surveys.survey_date <= least(build_window.rebuild_from_month_end, data_dates.data_as_of_date)
),

final as (
    select vin from crossed
    union
    select vin from surveyed
    except
    select vin from {{ ref('int_vins_changed') }}
)

select * from final
