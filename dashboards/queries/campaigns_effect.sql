-- Every campaign of every store (招揽活动效果) from marts.kpi_campaign_effect:
-- the plan against the result, the effect against the comparison group and
-- the cost, newest first per store. Numerator / denominator of each rate:
--   planned_returns_share = returned / planned_returns
--   reach_rate            = reached / contacted
--   return_rate           = returned / contacted
--   matched_return_rate   = matched_returned / matched_contacted
--   expected_return_rate  = expected_returns / matched_contacted
--   uplift                = (matched_returned - expected_returns) / matched_contacted,
--                           95% interval uplift_ci_low .. uplift_ci_high
-- and the amounts: cost_per_returned = cost / returned,
-- cost_per_incremental_return = cost / incremental_returns (when above 0),
-- campaign_return = incremental_gross_profit - cost.
select
    e.store_code,
    d.store_name,
    d.region,
    e.campaign_id,
    e.campaign_name,
    e.campaign_kind,
    e.target_reason,
    e.month_end,
    e.start_date,
    e.end_date,
    e.window_end,
    e.as_of_date,
    e.measured_through,
    e.is_running,
    e.has_contact_file,
    e.comparison_design,
    e.strata_month_end,
    e.comparison_month_end,
    e.cost,
    e.planned_returns,
    e.planned_returns_share,
    e.contacted,
    e.reached,
    e.reach_rate,
    e.returned,
    e.return_rate,
    e.returned_after_contact,
    e.visits,
    e.revenue,
    e.gross_profit,
    e.cost_per_returned,
    e.unmatched_contacted,
    e.matched_contacted,
    e.matched_returned,
    e.matched_return_rate,
    e.comparison_customers,
    e.comparison_returned,
    e.expected_returns,
    e.expected_return_rate,
    e.incremental_returns,
    e.uplift,
    e.uplift_ci_low,
    e.uplift_ci_high,
    e.cost_per_incremental_return,
    e.incremental_gross_profit,
    e.campaign_return
from marts.kpi_campaign_effect e
left join marts.dim_stores d on d.store_code = e.store_code
order by e.store_code, e.start_date desc, e.campaign_id
