-- One row per scope (store, region, group), VIN and month end, from the month
-- of the customer's first visit in the scope to the month the data runs to:
-- the month's visits and money, and what is known as of the month's end (last
-- visit and the store it was at, annual spend at it, mileage readings, visits
-- and revenue to date), taken from the customer's last visit on or before
-- the month end (an as-of join on the visits with their running totals).
--
-- It holds the customer-months this build recomputes (int_build_window): on
-- a full rebuild all of them; otherwise the months of the changed vehicles
-- from the first their changes reach (int_vins_changed), the window's month
-- of the vehicles due (int_vins_due), and every other customer's months
-- after it. Those customers have no visit
-- after the previous build's data date (a visit arrives in a drop, which
-- makes its vehicle changed), so their state in those months is the state at
-- their latest visit: a plain aggregate over their visits, with no window
-- over their history.
--
-- A vehicle seen at one store only (every visit and every survey of it)
-- has region and group customer-months equal to its store's but for the
-- scope: this model holds its store's only, and int_customer_months_classified's
-- store rows stand for the region's and the group's. Vehicles seen at several stores
-- have rows of every scope. In the bench's 100-store landing 97% of the
-- vehicles keep to one store: this model then holds 22M rows, not 61M.
{%- set state_columns = [
    'scope_level', 'scope_code', 'vin', 'visit_date', 'store_code', 'annual_spend', 'visits_in_year',
    'service_type', 'first_visit_date', 'next_visit_date', 'total_visits', 'lifetime_revenue',
    'first_reading_date', 'last_reading_date', 'min_mileage_km', 'max_mileage_km'] %}
with

all_visit_days as (
    select * from {{ ref('int_vehicle_visits_scoped') }}
),

surveys as (
    select * from {{ ref('stg_survey__responses') }}
),

build_window as (
    select * from {{ ref('int_build_window') }}
),

data_dates as (
    select * from {{ ref('stg_reference__data_dates') }}
),

vins_changed as (
    select * from {{ ref('int_vins_changed') }}
),

vins_due as (
    select * from {{ ref('int_vins_due') }}
),

-- Does the data date enter a month after the window's? Then every customer
-- gets that month.
new_months as (
    select last_day(data_dates.data_as_of_date) > build_window.rebuild_from_month_end as begin
    from data_dates
    cross join build_window
),

-- Every vehicle gets rows on a full rebuild or when a month begins; on
-- other days only the changed and the due ones, so only theirs are counted.
every_vehicle_spined as (
    select build_window.is_full_rebuild or new_months.begin as is_every
    from build_window
    cross join new_months
),

-- Surveys count too: a survey at another store is the region's or the
-- group's latest survey of the vehicle, not the store's.
vins_seen_at_several_stores as (
    select vin
    from (
        select vin, scope_code as store_code from all_visit_days where scope_level = 'store'
        union all
        select vin, store_code from surveys
    )
    where (select is_every from every_vehicle_spined)
        or vin in (select vin from vins_changed)
        or vin in (select vin from vins_due)
    group by vin
    having count(distinct store_code) > 1
),

visit_days as (
    select * from all_visit_days
    where scope_level = 'store' or vin in (select vin from vins_seen_at_several_stores)
),

-- The visits whose every month is recomputed, with the customer's running
-- totals and the next visit's date: all of them on a full rebuild, else the
-- changed vehicles'.
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
        lead(visit_date) over customer_in_order as next_visit_date,
        count(*) over customer_so_far as total_visits,
        sum(revenue) over customer_so_far as lifetime_revenue,
        min(case when mileage_km is not null then visit_date end) over customer_so_far as first_reading_date,
        max(case when mileage_km is not null then visit_date end) over customer_so_far as last_reading_date,
        min(mileage_km) over customer_so_far as min_mileage_km,
        max(mileage_km) over customer_so_far as max_mileage_km
    from visit_days
    where (select is_full_rebuild from build_window) or vin in (select vin from vins_changed)
    window
        customer as (partition by scope_level, scope_code, vin),
        customer_in_order as (partition by scope_level, scope_code, vin order by visit_date),
        customer_so_far as (
            partition by scope_level, scope_code, vin
            order by visit_date
            rows between unbounded preceding and current row
        )
),

-- The other customers due or given a new month, at their latest visit.
latest_visits as (
    select
        scope_level,
        scope_code,
        vin,
        vin in (select vin from vins_due) as is_due,
        max(visit_date) as visit_date,
        max_by(store_code, visit_date) as store_code,
        max_by(annual_spend, visit_date) as annual_spend,
        max_by(visits_in_year, visit_date) as visits_in_year,
        max_by(service_type, visit_date) as service_type,
        min(visit_date) as first_visit_date,
        null::date as next_visit_date,
        count(*) as total_visits,
        sum(revenue) as lifetime_revenue,
        min(visit_date) filter (where mileage_km is not null) as first_reading_date,
        max(visit_date) filter (where mileage_km is not null) as last_reading_date,
        min(mileage_km) as min_mileage_km,
        max(mileage_km) as max_mileage_km
    from visit_days
    where not (select is_full_rebuild from build_window)
        and vin not in (select vin from vins_changed)
        and ((select begin from new_months) or vin in (select vin from vins_due))
    group by scope_level, scope_code, vin
),

-- From its first visit on a full rebuild; from the first month its changes
-- reach, if later, in an incremental one.
recomputed_customers as (
    select
        recomputed.*,
        greatest(
            recomputed.first_visit_date, coalesce(vins_changed.changed_from_month_end, recomputed.first_visit_date)
        ) as first_recomputed_date
    from (
        select distinct scope_level, scope_code, vin, first_visit_date
        from visits_to_date
    ) as recomputed
    left join vins_changed using (vin)
),

-- Those months of the first; of the others the window's month if due and
-- the months after it.
spine as (
    select
        recomputed_customers.scope_level,
        recomputed_customers.scope_code,
        recomputed_customers.vin,
        cast(last_day(month_start) as date) as month_end,
        recomputed_customers.first_visit_date
    from recomputed_customers
    cross join data_dates
    {{ cross_join_unnest(
        month_starts('recomputed_customers.first_recomputed_date', 'data_dates.data_as_of_date'),
        'months', 'month_start') }}
    union all
    select
        latest_visits.scope_level,
        latest_visits.scope_code,
        latest_visits.vin,
        cast(last_day(month_start) as date) as month_end,
        latest_visits.first_visit_date
    from latest_visits
    cross join data_dates
    cross join build_window
    {%- set first_month_of_latest %}
        greatest(
            latest_visits.first_visit_date,
            case
                when latest_visits.is_due then build_window.rebuild_from_month_end
                else build_window.rebuild_from_month_end + interval 1 month
            end
        )
    {%- endset %}
    {{ cross_join_unnest(month_starts(first_month_of_latest, 'data_dates.data_as_of_date'), 'months', 'month_start') }}
),

-- The state as of each month end: the last visit on or before it.
states as (
    select {{ state_columns | join(', ') }} from visits_to_date
    union all
    select {{ state_columns | join(', ') }} from latest_visits
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
    where (select is_full_rebuild from build_window)
        or vin in (select vin from vins_changed)
        or visit_date > (select rebuild_from_month_end - interval 1 month from build_window)
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
    {{ asof_join('states', 'last_visit',
        [('scope_level', 'spine.scope_level'), ('scope_code', 'spine.scope_code'), ('vin', 'spine.vin')],
        'visit_date', 'spine.month_end') }}
    left join monthly
        on monthly.scope_level = spine.scope_level
        and monthly.scope_code = spine.scope_code
        and monthly.vin = spine.vin
        and monthly.month_end = spine.month_end
)

select * from final
