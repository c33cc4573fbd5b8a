-- One row per VIN whose customer-months this build recomputes in every month
-- (int_build_window): a repair order, survey response or vehicle record of it
-- was loaded since the last completed build, or replaced by a re-delivered
-- file (raw.replaced_rows), or its owner's record was. For a repair order or
-- response touched so, the VIN of every version of it counts: a corrected
-- version may name another vehicle. Empty on a full rebuild, which recomputes
-- every VIN anyway. Insurance rows change no customer-month (renewals are
-- counted from the policies directly). Raw and the vehicle master only: the
-- incremental staging models read this.
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

changed_vins as (
    select vin from repair_orders
    where not (select is_full_rebuild from build_window)
        and ({{ touched_since_last_build('dms_repair_orders', ['store_code', 'ro_number']) }})
    union all
    select vin from survey_responses
    where not (select is_full_rebuild from build_window)
        and ({{ touched_since_last_build('survey_responses', ['store_code', 'response_id']) }})
    union all
    select vin from vehicle_records where _loaded_at > (select changes_loaded_after from since)
    union all
    -- rows a re-delivery replaced: their vehicles, whatever remains of them
    select vin from replaced_since
    where table_name in ('dms_repair_orders', 'survey_responses', 'dms_vehicles')
    union all
    -- an owner's record changes the customer-months of the vehicles it owns,
    -- in the vehicle master or on a repair order
    select vin from vehicles where (store_code, customer_id) in (select store_code, customer_id from changed_owners)
    union all
    select vin from repair_orders
    where (store_code, customer_id) in (select store_code, customer_id from changed_owners)
),

final as (
    select distinct vin from changed_vins where vin is not null
)

select * from final
