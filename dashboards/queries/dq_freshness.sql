-- Freshness (数据到达) per store and drop source (dms, insurance, survey), from
-- marts.source_freshness: the last loaded drop, the last rejected one, how many
-- days the store is behind the data date (the latest date any store
-- delivered) and whether it is late (days_behind >= 1, or nothing ever loaded).
select
    f.store_code,
    d.store_name,
    d.region,
    f.source,
    f.last_drop_date,
    f.last_loaded_at,
    f.last_rejected_drop_date,
    f.data_as_of_date,
    f.days_behind,
    f.is_late
from marts.source_freshness f
left join marts.dim_stores d on d.store_code = f.store_code
order by f.store_code, f.source
