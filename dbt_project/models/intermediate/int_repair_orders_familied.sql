-- One row per qualifying RO (closed, payer not internal; SPEC section 5) with
-- its service family and visit month: the one place the family rule lives,
-- so every split by family (机修保养 / 钣喷 / 精品) agrees.
-- Incremental, as stg_dms__repair_orders: a build recomputes the repair
-- orders of the changed vehicles and writes only those that changed; their
-- keys go to intermediate.int_repair_orders_changed, the rows they replace
-- to intermediate.int_repair_orders_previous and the new rows to
-- intermediate.int_repair_orders_written, so kpi_service_family_month
-- recomputes only the months a repair order entered or left.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed',
    unique_key=['store_code', 'ro_number'],
    changed_keys='int_repair_orders_changed',
    previous_rows='int_repair_orders_previous',
    written_rows='int_repair_orders_written',
    on_schema_change='fail',
    incremental_predicates=[in_changed_vins()],
    post_hook=[
        "{{ replace_changed_relation('changed_keys') }}",
        "{{ replace_changed_relation('previous_rows') }}",
        "{{ replace_changed_relation('written_rows') }}",
    ],
) }}
with

repair_orders as (
    select * from {{ ref('stg_dms__repair_orders') }}
    where is_qualifying
    {%- if is_incremental() %}
        and ({{ in_changed_vins() }})
    {%- endif %}
),

final as (
    select
        store_code,
        ro_number,
        vin,
        visit_date,
        cast(last_day(visit_date) as date) as month_end,
        service_type,
        case
            when service_type in ('maintenance', 'repair', 'warranty', 'recall') then 'maintenance_repair'
            when service_type = 'bodywork' then 'body_paint'
            when service_type = 'accessory' then 'accessory'
            -- Not a family of the rule (an unknown type, or an internal type
            -- billed to a customer): kept, so the families add up to the store.
            else 'other'
        end as service_family,
        payer,
        is_revenue,
        claim_no,
        total_amount,
        labor_amount,
        parts_amount,
        parts_cost
    from repair_orders
)

select * from final
