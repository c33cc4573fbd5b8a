-- The size of each store's call list by call reason (hidden_churn, at_risk,
-- churned), over the whole list (not only the rows a page shows): customers
-- and their annual spend, and the data date the list is drawn at.
select
    store_code,
    call_reason,
    count(*)            as customers,
    sum(annual_spend)   as annual_spend,
    max(as_of_date)     as as_of_date
from marts.call_list
group by store_code, call_reason
order by store_code, call_reason
