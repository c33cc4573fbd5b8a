-- The churn risk score's distribution (流失风险分布) per store, from
-- marts.churn_scores: the customers of the store's latest scored month end
-- by p_return band (band 0 = 0-0.1 ... band 9 = 0.9-1, a score of exactly 1
-- in band 9), with the annual spend they hold and the expected value at risk,
-- sum of (1 - p_return) x annual_spend. share = customers / store_customers.
with latest as (
    select store_code, max(month_end) as month_end
    from marts.churn_scores
    group by store_code
)
select
    s.store_code,
    s.month_end,
    least(floor(s.p_return * 10), 9)::integer as band,
    count(*) as customers,
    sum(count(*)) over (partition by s.store_code) as store_customers,
    sum(s.annual_spend) as annual_spend,
    sum(s.expected_value_at_risk) as expected_value_at_risk
from marts.churn_scores as s
join latest using (store_code, month_end)
group by s.store_code, s.month_end, band
order by s.store_code, band
