-- One row per scope (store, region, group) x month end x service family
-- (SPEC section 7): visits and money split between maintenance and repair
-- (机修保养), body and paint (钣喷) and accessories (精品), with the labor
-- share and each family's share of the scope's revenue. Visits are distinct
-- (vin, visit_date) within the scope, so they are counted per scope rather
-- than summed from the stores.
--
-- Incremental: a build recomputes the scope-months a repair order entered
-- or left (int_repair_orders_familied records which); a full build, all.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    on_schema_change='fail',
    incremental_predicates=[in_changed_repair_order_scope_months()],
) }}
with

repair_orders as (
    select * from {{ ref('int_repair_orders_familied') }}
    {%- if is_incremental() %}
    -- The changed months first: a day's change is one month or a few.
    where (select is_full_rebuild from {{ build_relation('int_build_window') }})
        or month_end in (select month_end from ({{ changed_repair_order_store_months() }}) as changed)
    {%- endif %}
),

stores_scoped as (
    select * from {{ ref('int_stores_scoped') }}
),

scoped_ros as (
    select
        stores_scoped.scope_level,
        stores_scoped.scope_code,
        repair_orders.*
    from repair_orders
    inner join stores_scoped using (store_code)
    {%- if is_incremental() %}
    where {{ in_changed_repair_order_scope_months() }}
    {%- endif %}
),

families as (
    select
        scope_level,
        scope_code,
        month_end,
        service_family,
        count(*) as qualifying_ros,
        count(distinct (vin, visit_date)) as visits,
        count(distinct (vin, visit_date)) filter (where is_revenue) as paid_visits,
        cast(coalesce(sum(total_amount) filter (where is_revenue), 0) as decimal(18, 2)) as revenue,
        cast(coalesce(sum(labor_amount) filter (where is_revenue), 0) as decimal(18, 2)) as labor_amount,
        cast(coalesce(sum(parts_amount) filter (where is_revenue), 0) as decimal(18, 2)) as parts_amount,
        cast(coalesce(sum(parts_cost) filter (where is_revenue), 0) as decimal(18, 2)) as parts_cost
    from scoped_ros
    group by scope_level, scope_code, month_end, service_family
),

scope_totals as (
    select
        scope_level,
        scope_code,
        month_end,
        cast(sum(revenue) as decimal(18, 2)) as scope_revenue
    from families
    group by scope_level, scope_code, month_end
),

final as (
    select
        families.scope_level,
        families.scope_code,
        families.month_end,
        families.service_family,
        families.qualifying_ros,
        families.visits,
        families.paid_visits,
        families.revenue,
        {{ money_per('families.revenue', 'families.paid_visits') }} as per_ticket_value,
        families.labor_amount,
        families.parts_amount,
        {{ safe_divide('families.labor_amount', 'families.labor_amount + families.parts_amount') }} as labor_share,
        {{ safe_divide('families.parts_amount', 'families.labor_amount') }} as labor_parts_ratio,
        families.parts_cost,
        cast(families.revenue - families.parts_cost as decimal(18, 2)) as gross_profit,
        {{ safe_divide('families.revenue - families.parts_cost', 'families.revenue') }} as gross_margin,
        scope_totals.scope_revenue,
        {{ safe_divide('families.revenue', 'scope_totals.scope_revenue') }} as revenue_share
    from families
    inner join scope_totals using (scope_level, scope_code, month_end)
)

select * from final
