-- One row per scope (store, region, group) and month end whose six-month
-- outcomes are complete (SPEC section 8a): how well the churn risk score,
-- the fixed rule (active -> will return) and recency alone (the more days
-- since the last visit, the less likely) told who came back, on the same
-- customers. AUC from ranks (Mann-Whitney: ties count half), Brier score
-- for the two that are probabilities.
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

-- One row per scope, month, customer and scorer; a region or group
-- customer is still a store x VIN (the unit the score is for).
scores as (
    select
        stores_scoped.scope_level,
        stores_scoped.scope_code,
        scored.month_end,
        scorers.scorer,
        scorers.score,
        scored.returned_within_6m as returned
    from scored
    inner join stores_scoped using (store_code)
    cross join lateral (
        select 'score' as scorer, scored.p_return as score
        union all
        select 'fixed_rule', case when scored.churn_status = 'active' then 1.0 else 0.0 end
        union all
        select 'recency', -scored.days_since_last_visit::double
    ) as scorers
    {%- if is_incremental() %}
    where {{ in_changed_score_scope_months('stores_scoped.scope_level', 'stores_scoped.scope_code', 'scored.month_end') }}
    {%- endif %}
),

-- Average rank of each score among its scope-month's scores (ties share
-- the mean of their ranks).
ranked as (
    select
        *,
        rank() over (partition by scope_level, scope_code, month_end, scorer order by score)
            + (count(*) over (partition by scope_level, scope_code, month_end, scorer, score) - 1) / cast(2 as double)
            as score_rank
    from scores
),

measured as (
    select
        scope_level,
        scope_code,
        month_end,
        scorer,
        count(*) as customers,
        count(*) filter (where returned) as returned,
        sum(score_rank) filter (where returned) as returned_rank_sum,
        avg((score - returned::int) * (score - returned::int)) as brier
    from ranked
    group by scope_level, scope_code, month_end, scorer
),

auc as (
    select
        *,
        case when returned > 0 and returned < customers then
            (returned_rank_sum - returned * (returned + 1) / cast(2 as double)) / (returned * (customers - returned))
        end as auc
    from measured
),

final as (
    select
        scope_level,
        scope_code,
        month_end,
        any_value(customers) as customers,
        any_value(returned) as returned,
        any_value(returned) / any_value(customers) as base_rate,
        round(any_value(auc) filter (where scorer = 'score'), 6) as score_auc,
        round(any_value(brier) filter (where scorer = 'score'), 6) as score_brier,
        round(any_value(auc) filter (where scorer = 'fixed_rule'), 6) as fixed_rule_auc,
        round(any_value(brier) filter (where scorer = 'fixed_rule'), 6) as fixed_rule_brier,
        round(any_value(auc) filter (where scorer = 'recency'), 6) as recency_auc,
        -- Brier of always saying the base rate: what a score must beat.
        round(any_value(returned) / any_value(customers) * (1 - any_value(returned) / any_value(customers)), 6)
            as base_rate_brier
    from auc
    group by scope_level, scope_code, month_end
)

select * from final
