-- One row per VIN whose customer-months this build recomputes
-- (int_build_window), from the month its changes can reach back to
-- (changed_from_month_end) to the data date's: a repair order, survey
-- response or vehicle record of it was loaded since the last completed
-- build, or replaced by a re-delivered file (raw.replaced_rows), or its
-- owner's record was. For a repair order or response touched so, the VIN of
-- every version of it counts: a corrected version may name another vehicle.
--
-- How far back: a repair order or response changes the months from its
-- date on (the earliest date of any version of it), and the
-- customer-months look ahead six months (a visit in the next six months,
-- the churn score's outcome): so from six months before that date's month.
-- A vehicle or owner record, and a row a re-delivery replaced (gone from
-- raw, its date with it), change every month: from the first month of any
-- customer-month, stored or loaded. So does a changed vehicle seen at
-- several stores: one a new row brings to a second store had its earlier
-- months classified as a one-store vehicle's, whose store rows stand for its
-- region and group (stands_for_its_scopes), where a full rebuild classifies
-- them at every scope. Empty on a full rebuild, which
-- recomputes every VIN anyway. Insurance rows change no customer-month
-- (renewals are counted from the policies directly). Raw and the vehicle
-- master only: the incremental staging models read this.
with

build_window as (
    select * from {{ ref('int_build_window') }}
),

vehicles as (
    select store_code, vin, customer_id from {{ ref('stg_dms__vehicles') }}
),

repair_orders as (
    select * from {{ source('dms', 'repair_orders') }}
),

survey_responses as (
    select * from {{ source('survey', 'responses') }}
),

vehicle_records as (
    select * from {{ source('dms', 'vehicles') }}
),

customer_records as (
    select * from {{ source('dms', 'customers') }}
),

replaced_rows as (
    select * from {{ source('reference', 'replaced_rows') }}
),

since as (
    select changes_loaded_after from build_window where not is_full_rebuild
),

replaced_since as (
    select * from replaced_rows where replaced_at > (select changes_loaded_after from since)
),

changed_owners as (
    select store_code, customer_id from customer_records
    where _loaded_at > (select changes_loaded_after from since)
    union
    select store_code, customer_id from replaced_since where table_name = 'dms_customers'
),

-- The first month of any customer-month: of those stored, and of the
-- repair orders loaded (a backfill may deliver older ones).
first_month as (
    select least(
        {{ first_stored_month_end() }},
        coalesce((select cast(last_day(min(opened_at)) as date) from repair_orders), date '9999-12-31')
    ) as month_end
),

-- Each vehicle touched with the first day its change reaches; null: every day.
touched_vins as (
    select vin, cast(opened_at as date) as changed_from_date from repair_orders
    where not (select is_full_rebuild from build_window)
        and ({{ touched_since_last_build('dms_repair_orders', ['store_code', 'ro_number']) }})
    union all
    select vin, cast(surveyed_at as date) from survey_responses
    where not (select is_full_rebuild from build_window)
        and ({{ touched_since_last_build('survey_responses', ['store_code', 'response_id']) }})
    union all
    select vin, null from vehicle_records where _loaded_at > (select changes_loaded_after from since)
    union all
    -- rows a re-delivery replaced: their vehicles, whatever remains of them
    select vin, null from replaced_since
    where table_name in ('dms_repair_orders', 'survey_responses', 'dms_vehicles')
    union all
    -- an owner's record changes the customer-months of the vehicles it owns,
    -- in the vehicle master or on a repair order
    select vin, null from vehicles
    where (store_code, customer_id) in (select store_code, customer_id from changed_owners)
    union all
    select vin, null from repair_orders
    where (store_code, customer_id) in (select store_code, customer_id from changed_owners)
),

-- Repair orders of any status and every survey: at least what the spine
-- counts as seen at a store, so no vehicle it holds at several is missed.
seen_at_several_stores as (
    select seen.vin
    from (
        select vin, store_code from repair_orders
        union all
        select vin, store_code from survey_responses
    ) as seen
    where seen.vin in (select vin from touched_vins)
    group by seen.vin
    having count(distinct seen.store_code) > 1
),

changed_vins as (
    select vin, changed_from_date from touched_vins
    union all
    select vin, null from seen_at_several_stores
),

final as (
    {{ first_changed_month_per_vin('changed_vins', 'first_month', reach_back_months=6) }}
)

select * from final
