with

source as (
    select * from {{ source('dms', 'repair_order_lines') }}
),

latest as (
    {{ latest_version('source', ['store_code', 'ro_number', 'line_no']) }}
),

final as (
    select
        store_code,
        ro_number,
        line_no,
        line_type,
        item_code,
        description,
        quantity,
        labor_hours,
        unit_price,
        amount,
        cost,
        updated_at
    from latest
)

select * from final
