{#- The customer-months int_customer_months_featured recomputes: those
    int_customer_months_classified recomputes (in_rebuilt_customer_months:
    new months, the months a changed vehicle's changes reach, the running
    month of a vehicle whose status the moved data date changes; the running
    month is featured at its end, so the data date alone moves nothing else), the
    months whose six-month label window ends between the previous data date
    and this one (their label_complete turns true), and the months of a
    vehicle an insurance policy loaded or replaced since the last completed
    build reaches (int_policy_vehicle_months_rebuilt: policies change no
    customer-month of int_customer_months_classified, but they are
    features). -#}
{% macro in_rebuilt_feature_months(vin='vin', month_end='month_end') -%}
    {{ in_rebuilt_customer_months(vin, month_end) }}
    or {{ in_feature_months_only(vin, month_end) }}
{%- endmacro %}

{#- The customer-months int_customer_months_featured recomputes besides
    those int_customer_months_classified recomputes: the months whose label
    completes and the months a changed policy reaches. -#}
{% macro in_feature_months_only(vin='vin', month_end='month_end') -%}
    {{ in_label_completing_months(month_end) }}
    or ({{ vin }}, {{ month_end }}) in (
        select vin, month_end from {{ build_relation('int_policy_vehicle_months_rebuilt') }}
    )
{%- endmacro %}

{#- The month ends M whose six-month label window, which ends at
    last_day(M + 6 months), ends after the previous data date P and on or
    before the data date D. For a month end M, last_day(M + 6 months) > P
    holds exactly when M >= last_day((P + 1 day) - 6 months) (the window's
    end is a month end, so it is after P when its month is at least that of
    P + 1 day), so the months are a range of month_end: compared as it is,
    not computed per row (0.85 s over a 20M-row table at 100 stores, and the
    condition is read by several models and tests of every build). The
    equivalence holds for month ends only, which the customer-month
    relations' month_end always is. -#}
{% macro in_label_completing_months(month_end='month_end') -%}
    {%- set window = build_relation('int_build_window') -%}
    ({{ month_end }} >= (select cast(last_day({{ add_months('previous_data_as_of_date + 1', -6) }}) as date) from {{ window }})
        and {{ month_end }} < (select cast(last_day({{ add_months('data_as_of_date + 1', -6) }}) as date) from {{ window }}))
{%- endmacro %}

{#- The churn scores a build recomputes (int_churn_scores_predicted,
    churn_scores): the customer-months int_churn_scores_due scores, and
    every rebuilt feature month, which holds the rows of a vehicle that no
    longer has them. -#}
{% macro in_rescored_scores(store_code='store_code', vin='vin', month_end='month_end') -%}
    {{ in_rebuilt_feature_months(vin, month_end) }}
    or ({{ store_code }}, {{ vin }}, {{ month_end }}) in (
        select store_code, vin, month_end from {{ build_relation('int_churn_scores_due') }}
    )
{%- endmacro %}

{#- Months of the scope-months in_changed_score_scope_months() names, or
    every month on a full rebuild. -#}
{% macro in_months_of_changed_scores(month_end='month_end') -%}
    ((select is_full_rebuild from {{ build_relation('int_build_window') }})
    or {{ month_end }} in (select month_end from {{ build_relation('int_churn_score_store_months_changed') }}))
{%- endmacro %}

{#- Scope-months of the backtest and calibration whose inputs changed in
    this build (int_churn_score_store_months_changed: the stores and months
    of the changed scores they read), or every one on a full rebuild. -#}
{% macro in_changed_score_scope_months(scope_level='scope_level', scope_code='scope_code', month_end='month_end') -%}
    (select is_full_rebuild from {{ build_relation('int_build_window') }})
    or ({{ scope_level }}, {{ scope_code }}, {{ month_end }}) in (
        select stores_scoped.scope_level, stores_scoped.scope_code, changed.month_end
        from {{ build_relation('int_churn_score_store_months_changed') }} as changed
        inner join {{ build_relation('int_stores_scoped') }} as stores_scoped using (store_code)
    )
{%- endmacro %}
