with

source as {{ cte_not_materialized() }} (
    select * from {{ source('reference', 'stores') }}
),

latest as (
    {{ latest_version('source', ['store_code'], by_updated_at=false) }}
),

final as (
    select
        store_code,
        store_name,
        brand,
        city,
        province,
        coalesce(region, 'unknown') as region,
        opened_on
    from latest
)

select * from final
