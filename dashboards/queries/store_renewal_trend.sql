-- Insurance renewal rate (续保率) of a store by month:
-- renewal_rate = policies_renewed / policies_expiring (commercial policies ending
-- in the month).
-- Parameter: $store_code (one store; NULL = every store, which is how the
-- renderer runs it: one query for all store pages).
select
    store_code,
    month_end,
    policies_expiring,
    policies_renewed,
    renewal_rate
from marts.kpi_store_month
where ($store_code is null or store_code = $store_code)
order by store_code, month_end
