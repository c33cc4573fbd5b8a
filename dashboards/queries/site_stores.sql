-- The stores that get pages (门店): every store of marts.dim_stores, plus any
-- store that has KPI rows without a dimension row (shown with its code only).
with stores as (
    select store_code from marts.dim_stores
    union
    select distinct store_code from marts.kpi_store_month
)
select
    s.store_code,
    d.store_name,
    d.brand,
    d.city,
    d.province,
    d.region,
    d.opened_on
from stores s
left join marts.dim_stores d on d.store_code = s.store_code
order by d.region nulls last, s.store_code
