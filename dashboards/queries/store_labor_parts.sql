-- Labor-parts ratio (料工比) of a store by month:
--   labor_parts_ratio = parts_amount / labor_amount (may exceed 1)
--   labor_share       = labor_amount / (labor_amount + parts_amount)
-- Parameter: $store_code (one store; NULL = every store, which is how the
-- renderer runs it: one query for all store pages).
select
    store_code,
    month_end,
    labor_amount,
    parts_amount,
    labor_parts_ratio,
    labor_share
from marts.kpi_store_month
where ($store_code is null or store_code = $store_code)
order by store_code, month_end
