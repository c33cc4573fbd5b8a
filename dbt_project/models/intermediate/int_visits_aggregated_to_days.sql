-- One row per store, VIN and visit date (进厂台次, SPEC section 5): the
-- qualifying ROs of that day collapsed into one visit, with the money of its
-- revenue ROs and the customer's annual spend as of that day.
with

repair_orders as (
    select * from {{ ref('stg_dms__repair_orders') }}
    where is_qualifying
),

days as (
    select
        store_code,
        vin,
        visit_date,
        count(*) as qualifying_ros,
        bool_or(is_revenue) as is_paid_visit,
        cast(coalesce(sum(total_amount) filter (where is_revenue), 0) as decimal(18, 2)) as revenue,
        cast(coalesce(sum(labor_amount) filter (where is_revenue), 0) as decimal(18, 2)) as labor_amount,
        cast(coalesce(sum(parts_amount) filter (where is_revenue), 0) as decimal(18, 2)) as parts_amount,
        cast(coalesce(sum(parts_cost) filter (where is_revenue), 0) as decimal(18, 2)) as parts_cost,
        max(mileage_km) as mileage_km,
        arg_max(service_type, opened_at) as service_type
    from repair_orders
    group by store_code, vin, visit_date
),

final as (
    select
        *,
        -- Annual spend (SPEC section 5): revenue in the 365 days ending at this
        -- visit, i.e. visit dates in (visit_date - 365 days, visit_date].
        cast(sum(revenue) over (
            partition by store_code, vin
            order by visit_date
            range between interval 364 days preceding and current row
        ) as decimal(18, 2)) as annual_spend
    from days
)

select * from final
