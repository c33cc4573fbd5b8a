-- Where the stores' churned customers went (流失去向), summed over the stores
-- of the group per month: to competitors, to a sibling store of the group
-- (a group transfer: lost to the store, not to the group), natural losses.
-- Sums of marts.kpi_store_month, so a vehicle churned at two stores counts twice.
select
    month_end,
    sum(churned)                     as churned,
    sum(churned_to_competitors)      as churned_to_competitors,
    sum(churned_group_transfers)     as churned_group_transfers,
    sum(churned_natural)             as churned_natural,
    sum(churned_insurer_assigned)    as churned_insurer_assigned
from marts.kpi_store_month
group by month_end
order by month_end
