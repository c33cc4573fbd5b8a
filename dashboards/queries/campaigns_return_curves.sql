-- The return curves of every campaign (回厂曲线) from
-- marts.kpi_campaign_return_curve: by day since the start, the share of the
-- matched contacted who had come back, against the comparison group's share
-- weighted by the contacted's strata (weighted_returned / matched_contacted).
-- On the last day the gap is the campaign's uplift. Counts only.
select
    store_code,
    campaign_id,
    side,
    day_offset,
    curve_date,
    customers,
    returned,
    matched_contacted,
    weighted_returned,
    weighted_return_share
from marts.kpi_campaign_return_curve
order by store_code, campaign_id, side, day_offset
