-- The latest Great Expectations validation of each table (数据校验), from
-- ops.validation_results: when it ran, expectations evaluated and failed,
-- whether it passed, whether a critical expectation failed (which stops the
-- publish) and the failed expectations.
select
    table_name,
    validated_at,
    expectations_evaluated,
    expectations_failed,
    success,
    critical_failed,
    failed_expectations
from ops.validation_results
qualify row_number() over (partition by table_name order by validated_at desc) = 1
order by table_name
