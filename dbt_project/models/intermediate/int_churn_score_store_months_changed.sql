-- One row per store and month end whose backtest and calibration inputs
-- changed in this build: a churn score with complete outcomes that was
-- added, removed, or changed in a column those marts read. A score whose
-- row changed only in another column (an owner's new customer_key, which a
-- change of owner writes into every month of the vehicle) changes no
-- backtest figure, so it recomputes no scope-month. Read through
-- in_changed_score_scope_months(); a full rebuild recomputes every
-- scope-month and does not read it.
-- depends_on: {{ ref('churn_scores') }}
with

changed as (
    select * from {{ build_relation('int_churn_scores_changed') }}
),

-- The new versions of the changed scores, as churn_scores wrote them.
current_scores as (
    select * from {{ build_relation('int_churn_scores_written') }}
),

previous_scores as (
    select * from {{ build_relation('int_churn_scores_previous') }}
),

compared as (
    select
        changed.store_code,
        changed.month_end,
        coalesce(current_scores.label_complete, false) or coalesce(previous_scores.label_complete, false)
            as has_complete_outcome,
        current_scores.vin is null
            or previous_scores.vin is null
            or (current_scores.label_complete, current_scores.p_return, current_scores.returned_within_6m,
                current_scores.churn_status, current_scores.days_since_last_visit)
                is distinct from
               (previous_scores.label_complete, previous_scores.p_return, previous_scores.returned_within_6m,
                previous_scores.churn_status, previous_scores.days_since_last_visit)
            as backtest_input_changed
    from changed
    left join current_scores
        on current_scores.store_code = changed.store_code
        and current_scores.vin = changed.vin
        and current_scores.month_end = changed.month_end
    left join previous_scores
        on previous_scores.store_code = changed.store_code
        and previous_scores.vin = changed.vin
        and previous_scores.month_end = changed.month_end
),

final as (
    select distinct store_code, month_end
    from compared
    where has_complete_outcome and backtest_input_changed
)

select * from final
