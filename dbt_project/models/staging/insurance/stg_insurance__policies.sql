with

source as (
    select * from {{ source('insurance', 'policies') }}
),

latest as (
    {{ latest_version('source', ['policy_no']) }}
),

final as (
    select
        policy_no,
        store_code,
        vin,
        insurer,
        policy_type,
        start_date,
        end_date,
        premium,
        coalesce(sold_by_store, false) as sold_by_store,
        coalesce(is_renewal, false) as is_renewal,
        updated_at
    from latest
)

select * from final
