-- One row per customer-month (store x VIN x month end) the churn risk score
-- scores in this build, with the model of its month: the key and
-- fingerprint of the int_churn_models_fitted row whose scores_from ..
-- scores_through holds the month. Every scored month on a full rebuild;
-- else the rebuilt feature months (in_rebuilt_feature_months) and every
-- customer of a month whose model is not the one its stored scores came
-- from: refitted (its training rows changed), another model now scoring it
-- (a new month's outcome completed), or not scored before
-- (docs/decisions.md, "Incremental builds").
{%- set stored = adapter.get_relation(target_database(), 'intermediate', 'int_churn_scores_predicted') if execute else none %}
-- depends_on: {{ ref('int_build_window') }} {{ ref('int_vin_months_rebuilt') }} {{ ref('int_policy_vehicle_months_rebuilt') }}
with

featured as (
    select store_code, vin, month_end from {{ ref('int_customer_months_featured') }}
),

models as (
    select fitted_through, fingerprint as model_fingerprint, scores_from, scores_through
    from {{ ref('int_churn_models_fitted') }}
),

-- The model of every scored month.
month_models as (
    select
        cast(last_day(month_start) as date) as month_end,
        fitted_through,
        model_fingerprint
    from (
        select
            *,
            {{ unnest_list(month_starts('scores_from', 'scores_through')) }} as month_start
        from models
    )
),

{%- if stored is not none %}

-- The model each month's stored scores came from.
scored_before as (
    select distinct cast(month_end as date) as month_end, cast(fitted_through as date) as fitted_through,
        model_fingerprint
    from {{ stored }}
),

-- Months whose stored scores are not their model's, or that have none.
rescored_months as (
    select month_end from (
        select * from month_models
        except
        select * from scored_before
    )
    union
    select month_end from (
        select * from scored_before
        except
        select * from month_models
    )
),
{%- endif %}

final as (
    select
        featured.store_code,
        featured.vin,
        featured.month_end,
        month_models.fitted_through,
        month_models.model_fingerprint
    from featured
    inner join month_models using (month_end)
    {%- if stored is not none %}
    where (select is_full_rebuild from {{ ref('int_build_window') }})
        or {{ in_rebuilt_feature_months('featured.vin', 'featured.month_end') }}
        or featured.month_end in (select month_end from rescored_months)
    {%- endif %}
)

select * from final
