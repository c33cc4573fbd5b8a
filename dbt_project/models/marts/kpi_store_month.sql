-- One row per store x month end (SPEC sections 7 and 10): the store rows of
-- the scope KPIs, keyed by store_code. Definitions live in
-- int_kpis_aggregated_to_scope_months, once for every scope.
with

scope_months as (
    select * from {{ ref('int_kpis_aggregated_to_scope_months') }}
),

final as (
    select scope_code as store_code, {{ all_columns_except(['scope_level', 'scope_code']) }}
    from scope_months
    where scope_level = 'store'
)

select * from final
