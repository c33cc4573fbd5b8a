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

-- The customers of a scope-month and scorer by score, ties in one row:
-- the ranks and the Brier score need only how many customers share a
-- score and how many of them returned. The window below then sorts these
-- rows, not every customer three times: at 100 stores a month's 703,657
-- customers hold 296,361 distinct scores, 892 recencies and two fixed-rule
-- values (the model 43.8 s -> 19.6 s by hand, the same rows).
tied as (
    select
        scope_level,
        scope_code,
        month_end,
        scorer,
        score,
        count(*) as customers,
        count(*) filter (where returned) as returned,
        sum((score - returned::int) * (score - returned::int)) as squared_error
    from scores
    group by scope_level, scope_code, month_end, scorer, score
),

-- The average rank of a score among its scope-month's (ties share the
-- mean of their ranks): the customers scored below it plus the middle of
-- its own. Half-integers, so their sums below are exact.
ranked as (
    select
        *,
        coalesce(sum(customers) over (
            partition by scope_level, scope_code, month_end, scorer order by score
            rows between unbounded preceding and 1 preceding
        ), 0) + (customers + 1) / cast(2 as double) as score_rank
    from tied
),

measured as (
    select
        scope_level,
        scope_code,
        month_end,
        scorer,
        cast(sum(customers) as bigint) as customers,
        cast(sum(returned) as bigint) as returned,
        sum(returned * score_rank) as returned_rank_sum,
        sum(squared_error) / sum(customers) as brier
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
