-- One row per scope (store, region, group), VIN and month end, from the month
-- of the customer's first visit in the scope to the month the data runs to:
-- the month's visits and money, and what is known as of the month's end (last
-- visit and the store it was at, annual spend at it, mileage readings, visits
-- and revenue to date), taken from the customer's last visit on or before
-- the month end (an as-of join on the visits with their running totals).
--
-- It holds the customer-months this build recomputes (int_build_window): on
-- a full rebuild all of them; otherwise every customer's months from the
-- window's month on, and every month of the changed vehicles -- plus, for the
-- status change of is_won_back / is_newly_churned, each customer's month
-- before the window's (int_customer_months_classified drops it again).
with

visit_days as (
    select * from {{ ref('int_vehicle_visits_scoped') }}
),

data_dates as (
    select * from {{ ref('stg_reference__data_dates') }}
),

build_window as (
    select * from {{ ref('int_build_window') }}
),

vins_changed as (
    select * from {{ ref('int_vins_changed') }}
),

-- Each visit with the customer's running totals and the next visit's date.
visits_to_date as (
    select
        scope_level,
        scope_code,
        vin,
        visit_date,
        store_code,
        annual_spend,
        visits_in_year,
        service_type,
        min(visit_date) over customer as first_visit_date,
        lead(visit_date) over customer_so_far as next_visit_date,
        count(*) over customer_so_far as total_visits,
        sum(revenue) over customer_so_far as lifetime_revenue,
        min(case when mileage_km is not null then visit_date end) over customer_so_far as first_reading_date,
        max(case when mileage_km is not null then visit_date end) over customer_so_far as last_reading_date,
        min(mileage_km) over customer_so_far as min_mileage_km,
        max(mileage_km) over customer_so_far as max_mileage_km
    from visit_days
    window
        customer as (partition by scope_level, scope_code, vin),
        customer_so_far as (
            partition by scope_level, scope_code, vin
            order by visit_date
            rows between unbounded preceding and current row
        )
),

customers as (
    select
        visits_to_date.scope_level,
        visits_to_date.scope_code,
        visits_to_date.vin,
        min(visits_to_date.first_visit_date) as first_visit_date,
        bool_or(vins_changed.vin is not null) as is_changed
    from visits_to_date
    left join vins_changed using (vin)
    group by visits_to_date.scope_level, visits_to_date.scope_code, visits_to_date.vin
),

-- The months this build recomputes: from the window's month (less one, for
-- the previous status) for every customer, every month for a changed VIN.
spine as (
    select
        customers.scope_level,
        customers.scope_code,
        customers.vin,
        cast(last_day(month_start) as date) as month_end,
        customers.first_visit_date
    from customers
    cross join data_dates
    cross join build_window
    cross join unnest(generate_series(
        date_trunc('month', case
            when build_window.is_full_rebuild or customers.is_changed
                then customers.first_visit_date
            else greatest(
                customers.first_visit_date,
                cast(build_window.rebuild_from_month_end - interval 1 month as date)
            )
        end),
        date_trunc('month', data_dates.data_as_of_date),
        interval 1 month
    )) as months(month_start)
),

monthly as (
    select
        scope_level,
        scope_code,
        vin,
        cast(last_day(visit_date) as date) as month_end,
        count(*) as visits,
        count(*) filter (where is_paid_visit) as paid_visits,
        cast(sum(revenue) as decimal(18, 2)) as revenue,
        cast(sum(labor_amount) as decimal(18, 2)) as labor_amount,
        cast(sum(parts_amount) as decimal(18, 2)) as parts_amount,
        cast(sum(parts_cost) as decimal(18, 2)) as parts_cost
    from visit_days
    group by scope_level, scope_code, vin, cast(last_day(visit_date) as date)
),

final as (
    select
        spine.scope_level,
        spine.scope_code,
        spine.vin,
        spine.month_end,
        least(spine.month_end, data_dates.data_as_of_date) as as_of_date,
        spine.first_visit_date,
        coalesce(monthly.visits, 0) as visits,
        coalesce(monthly.paid_visits, 0) as paid_visits,
        coalesce(monthly.revenue, 0) as revenue,
        coalesce(monthly.labor_amount, 0) as labor_amount,
        coalesce(monthly.parts_amount, 0) as parts_amount,
        coalesce(monthly.parts_cost, 0) as parts_cost,
        last_visit.visit_date as last_visit_date,
        last_visit.store_code as last_store_code,
        last_visit.annual_spend,
        last_visit.visits_in_year,
        last_visit.service_type as last_service_type,
        last_visit.total_visits,
        cast(last_visit.lifetime_revenue as decimal(18, 2)) as lifetime_revenue,
        last_visit.first_reading_date,
        last_visit.last_reading_date,
        last_visit.min_mileage_km,
        last_visit.max_mileage_km,
        -- For the six-month cohort (SPEC section 7): does this customer visit
        -- in any of the next six months? The first visit after this month
        -- end is the one after the last visit on or before it.
        coalesce(
            last_visit.next_visit_date <= cast(last_day(spine.month_end + interval 6 month) as date), false
        ) as visits_in_next_six_months
    from spine
    cross join data_dates
    asof join visits_to_date as last_visit
        on last_visit.scope_level = spine.scope_level
        and last_visit.scope_code = spine.scope_code
        and last_visit.vin = spine.vin
        and last_visit.visit_date <= spine.month_end
    left join monthly
        on monthly.scope_level = spine.scope_level
        and monthly.scope_code = spine.scope_code
        and monthly.vin = spine.vin
        and monthly.month_end = spine.month_end
)

select * from final
