-- Churn-rate trend of every store over all months (流失率趋势, one line per store).
-- churn_rate = churned / on_file at each month_end (NULL when on_file = 0).
select
    store_code,
    month_end,
    as_of_date,
    churned,
    on_file,
    churn_rate
from marts.kpi_store_month
order by store_code, month_end
