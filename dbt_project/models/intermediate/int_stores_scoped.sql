-- Each store once per level it is reported at: itself, its region and the
-- group. Store-level figures that add up roll up by joining here and grouping
-- by (scope_level, scope_code); figures over distinct vehicles do not add up
-- and are computed per scope instead (int_vehicle_visits_scoped).
with

stores as (
    select * from {{ ref('stg_reference__stores') }}
),

final as (
    select store_code, 'store' as scope_level, store_code as scope_code from stores
    union all
    select store_code, 'region' as scope_level, region as scope_code from stores
    union all
    select store_code, 'group' as scope_level, '{{ var("group_code") }}' as scope_code from stores
)

select * from final
