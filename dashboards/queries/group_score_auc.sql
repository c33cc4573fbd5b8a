-- Each store's AUC of the churn risk score against the fixed rule and recency
-- (各门店流失风险评分 AUC), and the group's, from marts.churn_score_backtest
-- at the latest month end with complete six-month outcomes; base_rate =
-- returned / customers.
select
    b.scope_level,
    b.scope_code,
    d.store_name,
    d.region,
    b.month_end,
    b.customers,
    b.returned,
    b.base_rate,
    b.score_auc,
    b.fixed_rule_auc,
    b.recency_auc,
    b.score_brier,
    b.fixed_rule_brier
from marts.churn_score_backtest as b
left join marts.dim_stores as d on b.scope_level = 'store' and d.store_code = b.scope_code
where b.scope_level in ('store', 'group')
    and b.month_end = (select max(month_end) from marts.churn_score_backtest)
order by b.scope_level = 'group', b.scope_code
