-- Revenue (产值) and per-ticket value (客单价) of a store by month.
-- Revenue covers qualifying ROs paid by customer or insurance (warranty excluded);
-- per_ticket_value = revenue / paid_visits.
-- Parameter: $store_code (one store; NULL = every store, which is how the
-- renderer runs it: one query for all store pages).
select
    store_code,
    month_end,
    visits,
    paid_visits,
    revenue,
    per_ticket_value,
    parts_cost,
    gross_profit,
    gross_margin
from marts.kpi_store_month
where ($store_code is null or store_code = $store_code)
order by store_code, month_end
