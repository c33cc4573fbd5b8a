-- The churn risk score against the fixed rule and recency (回测) per store,
-- from marts.churn_score_backtest (store scope): the latest month end with
-- complete six-month outcomes ('latest'), and the mean of every backtest
-- month's figures ('mean', as docs/metrics.md section 3.27 reports them).
-- base_rate = returned / customers; for 'mean' customers and returned are
-- summed over the months and base_rate is the mean of the monthly rates.
with store_rows as (
    select * from marts.churn_score_backtest where scope_level = 'store'
),
latest as (
    select
        scope_code as store_code, 'latest' as period, month_end as first_month, month_end as last_month,
        1 as months, customers, returned, base_rate, score_auc, score_brier, fixed_rule_auc,
        fixed_rule_brier, recency_auc, base_rate_brier
    from store_rows
    qualify month_end = max(month_end) over (partition by scope_code)
),
mean as (
    select
        scope_code as store_code, 'mean' as period, min(month_end), max(month_end), count(*),
        sum(customers), sum(returned), avg(base_rate), avg(score_auc), avg(score_brier), avg(fixed_rule_auc),
        avg(fixed_rule_brier), avg(recency_auc), avg(base_rate_brier)
    from store_rows
    group by scope_code
)
select * from latest
union all
select * from mean
order by store_code, period
