-- The months the month filter offers (月份): every month end with group KPIs,
-- oldest first, with the date the data runs to. as_of_date < month_end means
-- the month is still in progress; its figures are as of that date.
select
    month_end,
    max(as_of_date)                    as as_of_date,
    count(distinct scope_code)         as stores_reporting
from marts.kpi_scope_month
where scope_level = 'store'
group by month_end
order by month_end
