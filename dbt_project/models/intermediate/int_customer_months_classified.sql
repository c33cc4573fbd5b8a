-- One row per scope (store, region, group), VIN and month end: the customer's
-- churn status as of the month end (SPEC section 6) with everything that
-- explains it -- thresholds, new / won back / newly churned, mileage-due and
-- hidden churn, loss type and destination, group transfers -- and the owner
-- and vehicle attributes the breakdowns of SPEC section 8 group by. A
-- vehicle seen at one store only has store rows only (as in
-- int_customer_months_spined), flagged stands_for_its_scopes: its region's
-- and group's rows would be the same but for the scope, and the readers
-- count the flagged rows in those scopes too (scopes_stood_for.sql).
--
-- Incremental (docs/decisions.md, "Incremental builds"): a build classifies
-- the customer-months int_customer_months_spined holds and replaces the part
-- it recomputed, writing only the rows that changed; their keys go to
-- intermediate.int_customer_months_changed_as_stored, the rows they replace
-- to intermediate.int_customer_months_previous and the new rows to
-- intermediate.int_customer_months_written, for the models downstream, and
-- the changed keys in every scope a flagged row stands for to
-- intermediate.int_customer_months_changed; every
-- row of the part, changed or not, to intermediate.int_customer_months_recomputed
-- (for the churn score's features, which recompute the same part). It
-- keeps the hash of every row in intermediate.int_customer_months_hashes, to
-- tell the changed rows from the others without reading them (row_hashes);
-- a first build hashes its rows after the commit, because DuckDB reads a
-- table with one thread in the transaction that created it (at 20 stores
-- 7.9 s there, 4.4 s after it).
{{ config(
    materialized='incremental',
    incremental_strategy='replace_changed',
    unique_key=['scope_level', 'scope_code', 'vin', 'month_end'],
    changed_keys='int_customer_months_changed_as_stored',
    incremental_predicates=[in_rebuilt_customer_months()],
    previous_rows='int_customer_months_previous',
    written_rows='int_customer_months_written',
    recomputed_rows='int_customer_months_recomputed',
    row_hashes='int_customer_months_hashes',
    pre_hook=["{{ drop_row_hashes_unless_incremental() }}"],
    post_hook=[
        "{{ replace_changed_relation('changed_keys') }}",
        "{{ replace_changed_relation('previous_rows') }}",
        "{{ replace_changed_relation('written_rows') }}",
        "{{ replace_changed_relation('recomputed_rows') }}",
        "drop table if exists {{ changed_customer_months() }}",
        "{{ create_changed_customer_months_in_every_scope() }}",
        after_commit("{{ hash_rows_unless_kept() }}"),
    ],
) }}
-- depends_on: {{ ref('int_vin_months_rebuilt') }}
with

-- Read three times (the rows, the surveys and the group's last visits):
-- each read scans the columns it needs, as DuckDB would otherwise copy every
-- column of every customer-month into memory first.
customer_months as {{ cte_not_materialized() }} (
    select * from {{ ref('int_customer_months_spined') }}
),

vehicles as (
    select * from {{ ref('int_vehicles_ruled') }}
),

customers as (
    select * from {{ ref('stg_dms__customers') }}
),

stores_scoped as (
    select * from {{ ref('int_stores_scoped') }}
),

reached_surveys as (
    select * from {{ ref('stg_survey__responses') }}
    where reached
),

-- The vehicle as the store of the last visit records it (its owner's
-- record is joined to the final rows only, which alone read it). This and
-- the next two CTEs are read again by each reader of with_status: DuckDB
-- would otherwise copy every column of them whole into memory (at 100
-- stores 60 s of the model's 97 s went to reading that copy back).
attributed as {{ cte_not_materialized() }} (
    select
        customer_months.*,
        vehicles.customer_id,
        vehicles.brand,
        vehicles.model,
        vehicles.purchase_date,
        vehicles.sold_by_store,
        vehicles.at_risk_after_months,
        vehicles.churned_after_months,
        vehicles.service_interval_months,
        vehicles.service_interval_km
    from customer_months
    left join vehicles
        on vehicles.store_code = customer_months.last_store_code
        and vehicles.vin = customer_months.vin
),

classified as {{ cte_not_materialized() }} (
    select
        *,
        -- Calendar month arithmetic with end-of-month clamping (Aug 31 + 6
        -- months = Feb 28/29), as DuckDB's date + interval does.
        {{ add_months('last_visit_date', 'at_risk_after_months') }} as at_risk_since,
        {{ add_months('last_visit_date', 'churned_after_months') }} as churned_since,
        -- Daily km from the first and last visits with a mileage reading, when
        -- they are far enough apart to be trusted (SPEC section 6).
        case
            when {{ days_between('last_reading_date', 'first_reading_date') }} >= {{ var('mileage_min_days_between_visits') }}
                then (max_mileage_km - min_mileage_km) / {{ days_between('last_reading_date', 'first_reading_date') }}
        end as daily_km
    from attributed
),

-- Read three times (the previous statuses, the pseudonyms and the rows): on
-- a full build computed again for each, each from the few columns it needs,
-- not copied whole into memory (at 100 stores the model spilled up to
-- 9.8 GB, docs/decisions.md); an incremental build's part is small and
-- computed once.
with_status as {{ cte_materialized() if is_incremental() else cte_not_materialized() }} (
    select
        *,
        {{ churn_status_at('as_of_date') }} as churn_status,
        -- Due = L + the sooner of the month interval and the days the km
        -- interval lasts at this daily km. Whole days: the visit dates are
        -- whole, so flooring the days changes no comparison with them.
        case
            when daily_km is null then null
            when daily_km <= 0 then {{ add_months('last_visit_date', 'service_interval_months') }}
            else least(
                {{ add_months('last_visit_date', 'service_interval_months') }},
                cast(last_visit_date + cast(floor(service_interval_km / daily_km) as integer) as date)
            )
        end as mileage_due_date
    from classified
),

-- Surveys of the scope's stores: at region and group level a survey by any
-- store of the scope speaks for the vehicle.
scoped_surveys as (
    select
        stores_scoped.scope_level,
        stores_scoped.scope_code,
        reached_surveys.vin,
        reached_surveys.response_id,
        reached_surveys.surveyed_at,
        reached_surveys.survey_date,
        reached_surveys.reason_list,
        reached_surveys.serviced_at
    from reached_surveys
    inner join stores_scoped using (store_code)
),

-- The latest reached survey after the last visit, up to the as-of date.
latest_survey as (
    select
        customer_months.scope_level,
        customer_months.scope_code,
        customer_months.vin,
        customer_months.month_end,
        scoped_surveys.survey_date,
        scoped_surveys.reason_list,
        scoped_surveys.serviced_at
    from customer_months
    inner join scoped_surveys
        on scoped_surveys.scope_level = customer_months.scope_level
        and scoped_surveys.scope_code = customer_months.scope_code
        and scoped_surveys.vin = customer_months.vin
        and scoped_surveys.survey_date > customer_months.last_visit_date
        and scoped_surveys.survey_date <= customer_months.as_of_date
    qualify row_number() over (
        partition by customer_months.scope_level, customer_months.scope_code, customer_months.vin, customer_months.month_end
        order by scoped_surveys.surveyed_at desc, scoped_surveys.response_id desc
    ) = 1
),

{%- if is_incremental() %}

-- The stored rows of the month before the rebuilt ones.
stored_before as (
    select scope_level, scope_code, stands_for_its_scopes, vin, month_end, churn_status
    from {{ this }}
    where month_end = (
        select cast(last_day(rebuild_from_month_end - interval 1 month) as date)
        from {{ build_relation('int_build_window') }}
    )
        and vin not in (select vin from {{ build_relation('int_vins_changed') }})
    union all
    select scope_level, scope_code, stands_for_its_scopes, vin, month_end, churn_status
    from {{ this }}
    where (vin, month_end) in (
        select vin, cast(last_day(changed_from_month_end - interval 1 month) as date)
        from {{ build_relation('int_vins_changed') }}
    )
),
{%- endif %}

-- The previous month's status, for won back and newly churned: a window
-- over these few columns, not over the wide rows, which costs many times more.
-- In an incremental build, a customer whose earlier months are kept finds
-- the month before the rebuilt ones here already: the window's for a
-- customer given new months or due, the one before its changes reach for
-- a changed vehicle.
previous_statuses as (
    select
        scope_level,
        scope_code,
        vin,
        month_end,
        lag(churn_status) over (partition by scope_level, scope_code, vin order by month_end)
            as previous_churn_status
    from (
        select scope_level, scope_code, vin, month_end, churn_status from with_status
        {%- if is_incremental() %}
        union all
        -- (a stored row flagged stands_for_its_scopes in its region and
        -- group too: the vehicle may have visited a second store since)
        select scope_level, scope_code, vin, month_end, churn_status
        from ({{ in_every_scope('stored_before', ['vin', 'month_end', 'churn_status'], 'stores_scoped') }})
        {%- endif %}
    )
),

-- The pseudonym of each owner once, not once per customer-month (sha256 is
-- the costliest expression here).
owner_keys as (
    select
        owner_ref,
        {{ pseudonym('owner_ref') }} as customer_key
    from (
        select distinct last_store_code || '|' || coalesce(customer_id, vin) as owner_ref
        from with_status
    )
),

-- The vehicle's last visit anywhere in the group: later than the last visit
-- in a store's (or region's) own scope means it went to a sibling store.
group_last_visits as (
    select vin, month_end, last_visit_date as group_last_visit_date
    from customer_months
    where scope_level = 'group'
),

-- int_customer_months_spined holds a vehicle seen at one store only at
-- store level (it has no group rows): its store rows stand for its region
-- and group too. The others have rows of every scope.
vins_seen_at_several_stores as (
    select distinct vin from group_last_visits
),

final as (
    select
        with_status.scope_level,
        with_status.scope_code,
        with_status.vin,
        with_status.month_end,
        -- No as_of_date and no estimated mileage here: both move with the
        -- data date every day, so every customer-month of the running month
        -- would change daily and every aggregate downstream would take it
        -- away and add it back. The marts derive them from the month end and
        -- the data date (customer_month_columns.sql); a row here changes only
        -- when something the aggregates count changes.
        with_status.last_store_code,
        owner_keys.customer_key,
        with_status.brand,
        with_status.model,
        with_status.purchase_date,
        with_status.sold_by_store,
        customers.customer_type,
        customers.occupation,
        customers.gender,
        customers.district,
        with_status.visits,
        with_status.paid_visits,
        with_status.revenue,
        with_status.labor_amount,
        with_status.parts_amount,
        with_status.parts_cost,
        with_status.first_visit_date,
        with_status.last_visit_date,
        with_status.last_service_type,
        coalesce(with_status.annual_spend, 0) as annual_spend,
        coalesce(with_status.visits_in_year, 0) as visits_in_year,
        with_status.total_visits,
        with_status.lifetime_revenue,
        with_status.at_risk_after_months,
        with_status.churned_after_months,
        with_status.at_risk_since,
        with_status.churned_since,
        with_status.churn_status,
        last_day(with_status.first_visit_date) = with_status.month_end as is_new,
        with_status.visits > 0
            and coalesce(previous_statuses.previous_churn_status = 'churned', false) as is_won_back,
        -- Churned as of this month end but not as of the previous one.
        with_status.churn_status = 'churned'
            and coalesce(previous_statuses.previous_churn_status <> 'churned', true) as is_newly_churned,
        with_status.visits_in_next_six_months,
        with_status.daily_km,
        with_status.mileage_due_date,
        with_status.last_reading_date,
        with_status.max_mileage_km,
        {{ overdue_by_mileage_at('with_status.as_of_date', 'with_status.mileage_due_date') }} as overdue_by_mileage,
        with_status.churn_status = 'active'
            and {{ overdue_by_mileage_at('with_status.as_of_date', 'with_status.mileage_due_date') }}
            as is_hidden_churn,
        latest_survey.survey_date as last_survey_date,
        case
            when latest_survey.reason_list is null then null
            when {{ list_has_any_of('latest_survey.reason_list', ["'vehicle_sold'", "'moved'"]) }} then 'natural'
            when latest_survey.reason_list = {{ list_of(["'insurer_assigned'"]) }} then 'insurer_assigned'
            when {{ is_serviced_elsewhere('latest_survey.serviced_at') }} then 'competitor'
            else 'unknown'
        end as loss_type,
        -- A customer no longer active here who has since been served by a
        -- sibling store is a group transfer, not a loss to the group.
        with_status.churn_status <> 'active'
            and coalesce(group_last_visits.group_last_visit_date > with_status.last_visit_date, false)
            as is_group_transfer,
        case
            when with_status.churn_status <> 'active'
                and group_last_visits.group_last_visit_date > with_status.last_visit_date
                then 'group_transfer'
            else latest_survey.serviced_at
        end as loss_destination,
        -- Breakdown bands (SPEC section 8; bounds in docs/metrics.md).
        case
            when customers.birth_year is null then 'unknown'
            when year(with_status.as_of_date) - customers.birth_year < 30 then 'under_30'
            when year(with_status.as_of_date) - customers.birth_year < 40 then '30_39'
            when year(with_status.as_of_date) - customers.birth_year < 50 then '40_49'
            when year(with_status.as_of_date) - customers.birth_year < 60 then '50_59'
            else '60_plus'
        end as age_band,
        {{ vehicle_age_band_at('with_status.as_of_date', 'with_status.purchase_date') }} as vehicle_age_band,
        case
            when coalesce(with_status.visits_in_year, 0) <= 1 then '1'
            when with_status.visits_in_year = 2 then '2'
            when with_status.visits_in_year = 3 then '3'
            else '4_plus'
        end as visits_per_year_band,
        case
            when coalesce(with_status.annual_spend, 0) = 0 then 'none'
            when with_status.annual_spend < 1000 then 'under_1k'
            when with_status.annual_spend < 3000 then '1k_3k'
            when with_status.annual_spend < 5000 then '3k_5k'
            when with_status.annual_spend < 10000 then '5k_10k'
            else '10k_plus'
        end as annual_spend_band,
        with_status.scope_level = 'store' and vins_seen_at_several_stores.vin is null
            as stands_for_its_scopes
    from with_status
    left join customers
        on customers.store_code = with_status.last_store_code
        and customers.customer_id = with_status.customer_id
    left join latest_survey
        on latest_survey.scope_level = with_status.scope_level
        and latest_survey.scope_code = with_status.scope_code
        and latest_survey.vin = with_status.vin
        and latest_survey.month_end = with_status.month_end
    left join group_last_visits
        on group_last_visits.vin = with_status.vin
        and group_last_visits.month_end = with_status.month_end
    inner join previous_statuses
        on previous_statuses.scope_level = with_status.scope_level
        and previous_statuses.scope_code = with_status.scope_code
        and previous_statuses.vin = with_status.vin
        and previous_statuses.month_end = with_status.month_end
    inner join owner_keys
        on owner_keys.owner_ref = with_status.last_store_code || '|' || coalesce(with_status.customer_id, with_status.vin)
    left join vins_seen_at_several_stores
        on vins_seen_at_several_stores.vin = with_status.vin
)

select * from final
