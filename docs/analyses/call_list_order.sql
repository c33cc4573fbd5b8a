-- The call list's order backtested (docs/decisions.md, "The call list keeps
-- its order"): for every month end M with complete six-month outcomes, the
-- call list as it would have been at M (fct_customer_month: at risk, churned
-- within the last 12 months, or hidden churn; not a group transfer, not a
-- natural loss), and per store the annual spend of the customers who
-- returned within six months among the first N calls, ordered as the call
-- list is (annual spend desc) or by expected value at risk desc. Runs as is
-- in DuckDB on a published warehouse:
--   duckdb -readonly var/warehouse.duckdb < docs/analyses/call_list_order.sql
with listed as (
    select f.store_code, f.vin, f.month_end, f.annual_spend, s.expected_value_at_risk, s.returned_within_6m
    from marts.fct_customer_month as f
    join marts.churn_scores as s using (store_code, vin, month_end)
    where s.label_complete
        and not f.is_group_transfer
        and coalesce(f.loss_type, '') <> 'natural'
        and (f.is_hidden_churn or f.churn_status = 'at_risk'
             or (f.churn_status = 'churned' and f.churned_since > cast(f.month_end - interval 12 month as date)))
),
ranked as (
    select *,
        row_number() over (partition by store_code, month_end order by annual_spend desc, vin) as spend_rank,
        row_number() over (partition by store_code, month_end order by expected_value_at_risk desc, vin) as risk_rank
    from listed
),
firsts as (select unnest([20, 50, 100]) as n)
select
    r.month_end, r.store_code, firsts.n,
    count(*) filter (where r.spend_rank <= n) as calls,
    count(*) filter (where r.spend_rank <= n and r.returned_within_6m) as returned_by_spend,
    sum(r.annual_spend) filter (where r.spend_rank <= n and r.returned_within_6m) as returned_spend_by_spend,
    count(*) filter (where r.risk_rank <= n and r.returned_within_6m) as returned_by_risk,
    sum(r.annual_spend) filter (where r.risk_rank <= n and r.returned_within_6m) as returned_spend_by_risk,
    max(r.spend_rank) as list_length
from ranked as r cross join firsts
group by all
order by r.month_end, r.store_code, firsts.n;
