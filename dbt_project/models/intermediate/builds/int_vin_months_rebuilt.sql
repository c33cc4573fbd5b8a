-- One row per changed VIN (int_vins_changed) and month end whose
-- customer-months this build recomputes for that vehicle's changes: from its
-- changed_from_month_end to the data date's month. The incremental models
-- match their rows against it (in_rebuilt_customer_months); empty on a full
-- rebuild, which recomputes every customer-month anyway.
with

vins_changed as (
    select * from {{ ref('int_vins_changed') }}
),

data_dates as (
    select * from {{ ref('stg_reference__data_dates') }}
),

final as (
    select
        vins_changed.vin,
        cast(last_day(months.month_start) as date) as month_end
    from vins_changed
    cross join data_dates
    {{ cross_join_unnest(
        month_starts('vins_changed.changed_from_month_end', 'data_dates.data_as_of_date'),
        'months', 'month_start') }}
)

select * from final
