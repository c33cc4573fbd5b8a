-- One row per store and customer id, latest version. Personal fields are
-- replaced by a pseudonym and masked forms here (SPEC section 9).
with

source as (
    select * from {{ source('dms', 'customers') }}
),

latest as (
    {{ latest_version('source', ['store_code', 'customer_id']) }}
),

final as (
    select
        store_code,
        customer_id,
        {{ pseudonym("store_code || '|' || customer_id") }} as customer_key,
        {{ mask_name('name') }} as name_masked,
        {{ mask_phone('phone') }} as phone_masked,
        gender,
        year(birth_date) as birth_year,
        occupation,
        customer_type,
        district,
        city,
        created_at,
        updated_at
    from latest
)

select * from final
