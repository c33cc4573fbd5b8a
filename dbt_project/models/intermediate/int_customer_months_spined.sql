-- One row per scope (store, region, group), VIN and month end, from the month
-- of the customer's first visit in the scope to the month the data runs to:
-- the month's visits and money, and what is known as of the month's end (last
-- visit and the store it was at, annual spend at it, mileage readings, visits
-- and revenue to date). Windows over the contiguous months keep it set-based.
with

visit_days as (
    select * from {{ ref('int_vehicle_visits_scoped') }}
),

data_dates as (
    select * from {{ ref('stg_reference__data_dates') }}
),

customers as (
    select scope_level, scope_code, vin, min(visit_date) as first_visit_date
    from visit_days
    group by scope_level, scope_code, vin
),

months as (
    select cast(last_day(month_start) as date) as month_end
    from (
        select unnest(generate_series(
            date_trunc('month', (select min(first_visit_date) from customers)),
            date_trunc('month', data_as_of_date),
            interval 1 month
        )) as month_start
        from data_dates
    )
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
        cast(sum(parts_cost) as decimal(18, 2)) as parts_cost,
        max(visit_date) as last_visit_in_month,
        arg_max(store_code, visit_date) as store_at_last_visit,
        arg_max(annual_spend, visit_date) as annual_spend_at_last_visit,
        arg_max(visits_in_year, visit_date) as visits_in_year_at_last_visit,
        arg_max(service_type, visit_date) as service_type_at_last_visit,
        min(visit_date) filter (where mileage_km is not null) as first_reading_date,
        max(visit_date) filter (where mileage_km is not null) as last_reading_date,
        min(mileage_km) as min_mileage_km,
        max(mileage_km) as max_mileage_km
    from visit_days
    group by scope_level, scope_code, vin, cast(last_day(visit_date) as date)
),

spine as (
    select
        customers.scope_level,
        customers.scope_code,
        customers.vin,
        months.month_end,
        least(months.month_end, data_dates.data_as_of_date) as as_of_date,
        customers.first_visit_date
    from customers
    cross join data_dates
    inner join months on months.month_end >= last_day(customers.first_visit_date)
),

final as (
    select
        spine.scope_level,
        spine.scope_code,
        spine.vin,
        spine.month_end,
        spine.as_of_date,
        spine.first_visit_date,
        coalesce(monthly.visits, 0) as visits,
        coalesce(monthly.paid_visits, 0) as paid_visits,
        coalesce(monthly.revenue, 0) as revenue,
        coalesce(monthly.labor_amount, 0) as labor_amount,
        coalesce(monthly.parts_amount, 0) as parts_amount,
        coalesce(monthly.parts_cost, 0) as parts_cost,
        max(monthly.last_visit_in_month) over so_far as last_visit_date,
        last_value(monthly.store_at_last_visit ignore nulls) over so_far as last_store_code,
        last_value(monthly.annual_spend_at_last_visit ignore nulls) over so_far as annual_spend,
        last_value(monthly.visits_in_year_at_last_visit ignore nulls) over so_far as visits_in_year,
        last_value(monthly.service_type_at_last_visit ignore nulls) over so_far as last_service_type,
        cast(sum(coalesce(monthly.visits, 0)) over so_far as bigint) as total_visits,
        cast(sum(coalesce(monthly.revenue, 0)) over so_far as decimal(18, 2)) as lifetime_revenue,
        min(monthly.first_reading_date) over so_far as first_reading_date,
        max(monthly.last_reading_date) over so_far as last_reading_date,
        min(monthly.min_mileage_km) over so_far as min_mileage_km,
        max(monthly.max_mileage_km) over so_far as max_mileage_km,
        -- For the six-month cohort (SPEC section 7): does this customer visit
        -- in any of the next six months? Months are contiguous per customer.
        coalesce(sum(coalesce(monthly.visits, 0)) over (
            partition by spine.scope_level, spine.scope_code, spine.vin
            order by spine.month_end
            rows between 1 following and 6 following
        ), 0) > 0 as visits_in_next_six_months
    from spine
    left join monthly
        on monthly.scope_level = spine.scope_level
        and monthly.scope_code = spine.scope_code
        and monthly.vin = spine.vin
        and monthly.month_end = spine.month_end
    window so_far as (
        partition by spine.scope_level, spine.scope_code, spine.vin
        order by spine.month_end
        rows between unbounded preceding and current row
    )
)

select * from final
