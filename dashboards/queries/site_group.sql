-- The group's own scope code in marts.kpi_scope_month (dbt var group_code).
select distinct scope_code
from marts.kpi_scope_month
where scope_level = 'group'
