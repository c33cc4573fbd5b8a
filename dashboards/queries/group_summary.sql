-- Group overview header (集团总览): the months covered and how many stores report.
-- The latest month_end of marts.kpi_store_month is the month of the league table;
-- as_of_date < month_end means that month is still in progress.
with latest as (
    select max(month_end) as month_end
    from marts.kpi_store_month
)
select
    (select count(*) from marts.dim_stores)                     as stores_in_dim,
    (select min(month_end) from marts.kpi_store_month)          as first_month_end,
    latest.month_end                                            as latest_month_end,
    (select max(k.as_of_date)
       from marts.kpi_store_month k
      where k.month_end = latest.month_end)                     as latest_as_of_date,
    (select count(distinct k.store_code)
       from marts.kpi_store_month k
      where k.month_end = latest.month_end)                     as stores_reporting
from latest
