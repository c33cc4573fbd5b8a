-- One row per store and VIN, latest version: the vehicle as the store knows
-- it now, with its current owner. The plate stays in raw (SPEC section 9).
with

source as (
    select * from {{ source('dms', 'vehicles') }}
),

latest as (
    {{ latest_version('source', ['store_code', 'vin']) }}
),

final as (
    select
        store_code,
        vin,
        customer_id,
        brand,
        model,
        model_year,
        purchase_date,
        coalesce(sold_by_store, false) as sold_by_store,
        updated_at
    from latest
)

select * from final
