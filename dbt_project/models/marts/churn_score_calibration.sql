-- One row per scope (store, region, group), month end with complete
-- outcomes and score decile (1 = least likely to return): the customers of
-- the decile, their mean p_return and the share that did return (SPEC
-- section 8a). A calibrated score has the two close in every decile.
--
-- Incremental (docs/decisions.md, "Incremental builds"): a build recomputes
-- the scope-months whose scores changed in a column read here
-- (int_churn_score_store_months_changed), from all of their customers.
-- depends_on: {{ ref('int_churn_score_store_months_changed') }}
{{ config(
    materialized='incremental',
    on_schema_change='fail',
    incremental_strategy='replace_where',
    incremental_predicates=[in_changed_score_scope_months()],
) }}
with

scored as (
    select * from {{ ref('churn_scores') }}
    where label_complete
    {%- if is_incremental() %}
        -- Only the months a recomputed scope-month can be in (read before the
        -- scopes multiply the rows; the filter below picks the scopes).
        and {{ in_months_of_changed_scores() }}
    {%- endif %}
),

stores_scoped as (
    select * from {{ ref('int_stores_scoped') }}
),

deciles as (
    select
        stores_scoped.scope_level,
        stores_scoped.scope_code,
        scored.month_end,
        scored.p_return,
        scored.returned_within_6m,
        cast(ntile(10) over (
            partition by stores_scoped.scope_level, stores_scoped.scope_code, scored.month_end
            order by scored.p_return, scored.store_code, scored.vin
        ) as bigint) as decile
    from scored
    inner join stores_scoped using (store_code)
    {%- if is_incremental() %}
    where {{ in_changed_score_scope_months('stores_scoped.scope_level', 'stores_scoped.scope_code', 'scored.month_end') }}
    {%- endif %}
),

final as (
    select
        scope_level,
        scope_code,
        month_end,
        decile,
        count(*) as customers,
        round(avg(p_return), 6) as mean_p_return,
        count(*) filter (where returned_within_6m) as returned,
        count(*) filter (where returned_within_6m) / count(*) as observed_return_rate
    from deciles
    group by scope_level, scope_code, month_end, decile
)

select * from final
