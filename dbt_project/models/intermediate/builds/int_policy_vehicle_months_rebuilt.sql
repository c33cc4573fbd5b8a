-- One row per VIN and month end whose churn-score features this build
-- recomputes because an insurance policy naming the vehicle was loaded or
-- replaced since the last completed build (in_rebuilt_feature_months).
-- A policy is a feature of a month from its start date on (the latest
-- commercial policy started on or before the month end), so a policy's
-- change reaches the vehicle's months from the earliest start date of any
-- version of it naming the vehicle; a policy a re-delivery replaced, whose
-- dates left with it, reaches every month. Up to the data date's month.
-- Empty on a full rebuild, which recomputes every month anyway.
with

build_window as (
    select * from {{ ref('int_build_window') }}
),

data_dates as (
    select * from {{ ref('stg_reference__data_dates') }}
),

policies as (
    select * from {{ source('insurance', 'policies') }}
),

replaced_rows as (
    select * from {{ source('reference', 'replaced_rows') }}
),

since as (
    select changes_loaded_after from build_window where not is_full_rebuild
),

-- The first month of any stored customer-month: "every month".
first_month as (
    select {{ first_stored_month_end() }} as month_end
),

-- Each vehicle with the first day a touched policy reaches (every version
-- of the policy, each with its own start); null: every day.
touched_vehicles as (
    select vin, start_date as changed_from_date from policies
    where not (select is_full_rebuild from build_window)
        and ({{ touched_since_last_build('insurance_policies', ['policy_no']) }})
    union all
    select vin, null from replaced_rows
    where table_name = 'insurance_policies' and replaced_at > (select changes_loaded_after from since)
),

vehicles_from as (
    {{ first_changed_month_per_vin('touched_vehicles', 'first_month') }}
),

final as (
    select
        vehicles_from.vin,
        cast(last_day(months.month_start) as date) as month_end
    from vehicles_from
    cross join data_dates
    {{ cross_join_unnest(
        month_starts('vehicles_from.changed_from_month_end', 'data_dates.data_as_of_date'),
        'months', 'month_start') }}
)

select * from final
