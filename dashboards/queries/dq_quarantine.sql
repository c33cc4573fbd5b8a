-- Quarantined rows (隔离行) by store, source, table and reason, from
-- marts.data_quality_quarantine (one row per store x source x table x drop
-- date x reason): rows quarantined, over how many drops, the latest drop date.
-- Rows with a problem (unparseable value, unknown enumeration, negative
-- amount, ...) are quarantined; the good rows of the file are loaded.
select
    store_code,
    source,
    table_name,
    reason,
    sum(rows)                   as rows,
    count(distinct drop_date)   as drops,
    max(drop_date)              as latest_drop_date
from marts.data_quality_quarantine
group by store_code, source, table_name, reason
order by store_code, source, table_name, rows desc, reason
