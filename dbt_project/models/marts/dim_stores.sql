with

stores as (
    select * from {{ ref('stg_reference__stores') }}
),

final as (
    select store_code, store_name, brand, city, province, region, opened_on
    from stores
)

select * from final
