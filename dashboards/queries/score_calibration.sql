-- The churn risk score's calibration (校准) per store, from
-- marts.churn_score_calibration: per score decile of the store's latest month
-- end with complete six-month outcomes, the predicted return rate
-- (mean_p_return) against the observed one, observed_return_rate =
-- returned / customers.
with latest as (
    select scope_code as store_code, max(month_end) as month_end
    from marts.churn_score_calibration
    where scope_level = 'store'
    group by scope_code
)
select
    c.scope_code as store_code,
    c.month_end,
    c.decile,
    c.customers,
    c.mean_p_return,
    c.returned,
    c.observed_return_rate
from marts.churn_score_calibration as c
join latest on c.scope_code = latest.store_code and c.month_end = latest.month_end
where c.scope_level = 'store'
order by store_code, c.decile
