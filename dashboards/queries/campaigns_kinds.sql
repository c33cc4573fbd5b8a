-- Campaign kinds (活动类型) and kind x target reason at group scope, over every
-- month: the rows of marts.kpi_campaign_effect_month for the group summed, and
-- ranked by cost per incremental return, cheapest first (a kind without an
-- incremental return is unranked, last). Recomputed from the sums exactly as
-- the mart computes a row:
--   cost_per_incremental_return = measured_cost / incremental_returns (when above 0)
--   uplift = (matched_returned - expected_returns) / matched_contacted,
--   its standard error sqrt(sum of (row std error x row matched_contacted)^2)
--   / matched_contacted (campaigns independent), interval +- z of it, z being
--   the mart's own (dbt var campaign_interval_z, read back from its rows)
--   planned_returns_share = planned_campaigns_returned / planned_returns
-- grouping = 'kind' (every reason of a kind) or 'kind_reason'.
with z as (
    select coalesce(max((uplift_ci_high - uplift) / uplift_std_error), 0) as z
    from marts.kpi_campaign_effect_month
    where uplift_std_error > 0
),
rows_ as (
    select 'kind' as grouping, campaign_kind, cast(null as varchar) as target_reason, m.*
        exclude (campaign_kind, target_reason)
    from marts.kpi_campaign_effect_month m
    where m.scope_level = 'group'
    union all
    select 'kind_reason' as grouping, campaign_kind, target_reason, m.*
        exclude (campaign_kind, target_reason)
    from marts.kpi_campaign_effect_month m
    where m.scope_level = 'group'
),
summed as (
    select
        grouping,
        campaign_kind,
        target_reason,
        cast(sum(campaigns) as bigint) as campaigns,
        cast(sum(running_campaigns) as bigint) as running_campaigns,
        cast(sum(measured_campaigns) as bigint) as measured_campaigns,
        cast(sum(contacted) as bigint) as contacted,
        cast(sum(returned) as bigint) as returned,
        cast(sum(cost) as decimal(18, 2)) as cost,
        cast(sum(planned_returns) as bigint) as planned_returns,
        cast(sum(planned_campaigns_returned) as bigint) as planned_campaigns_returned,
        cast(sum(matched_contacted) as bigint) as matched_contacted,
        cast(sum(matched_returned) as bigint) as matched_returned,
        sum(expected_returns) as expected_returns,
        sum(power(uplift_std_error * matched_contacted, 2)) as incremental_returns_variance,
        cast(sum(measured_cost) as decimal(18, 2)) as measured_cost,
        cast(sum(incremental_gross_profit) as decimal(18, 2)) as incremental_gross_profit
    from rows_
    group by grouping, campaign_kind, target_reason
),
effect as (
    select
        *,
        case when matched_contacted > 0 then matched_returned - expected_returns end as incremental_returns,
        (matched_returned - expected_returns) / nullif(matched_contacted, 0) as uplift,
        sqrt(incremental_returns_variance) / nullif(matched_contacted, 0) as uplift_std_error,
        cast(planned_campaigns_returned as double) / nullif(planned_returns, 0) as planned_returns_share
    from summed
),
priced as (
    select
        *,
        uplift - (select z from z) * uplift_std_error as uplift_ci_low,
        uplift + (select z from z) * uplift_std_error as uplift_ci_high,
        case when incremental_returns > 0
            then cast(round(measured_cost / incremental_returns, 2) as decimal(18, 2))
        end as cost_per_incremental_return,
        cast(incremental_gross_profit - measured_cost as decimal(18, 2)) as campaign_return
    from effect
)
select
    case when cost_per_incremental_return is not null
         then rank() over (partition by grouping, cost_per_incremental_return is null
                           order by cost_per_incremental_return)
    end as cost_rank,
    *
from priced
order by grouping, cost_per_incremental_return is null, cost_per_incremental_return, campaign_kind, target_reason
