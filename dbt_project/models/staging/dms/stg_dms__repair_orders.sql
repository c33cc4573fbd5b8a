-- One row per store and RO number, latest version (an RO delivered open and
-- later closed or cancelled counts in its final state), with the visit and
-- revenue rules of SPEC section 5 as flags.
-- Incremental: a build recomputes the repair orders of the changed vehicles
-- (int_vins_changed holds the vehicle of every version of a touched order).
-- depends_on: {{ ref('int_vins_changed') }}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    written_rows='stg_dms__repair_orders_written',
    on_schema_change='fail',
    incremental_predicates=[in_changed_vins()],
) }}
with

source as {{ cte_not_materialized() }} (
    select * from {{ source('dms', 'repair_orders') }}
    {%- if is_incremental() %}
    where {{ in_changed_vins() }}
    {%- endif %}
),

latest as (
    {{ latest_version('source', ['store_code', 'ro_number']) }}
),

final as (
    select
        store_code,
        ro_number,
        customer_id,
        vin,
        opened_at,
        closed_at,
        cast(opened_at as date) as visit_date,
        mileage_km,
        service_type,
        payer,
        labor_amount,
        parts_amount,
        coalesce(other_amount, 0) as other_amount,
        coalesce(discount_amount, 0) as discount_amount,
        total_amount,
        coalesce(parts_cost, 0) as parts_cost,
        advisor_code,
        status,
        claim_no,
        -- Qualifying: closed and not internal; it makes a visit (进厂台次).
        status = 'closed' and payer <> 'internal' as is_qualifying,
        -- Revenue (产值): qualifying and paid by the customer or an insurer;
        -- warranty is paid by the manufacturer and stays out (seed 003).
        status = 'closed' and payer in ('customer', 'insurance') as is_revenue,
        updated_at
    from latest
)

select * from final
