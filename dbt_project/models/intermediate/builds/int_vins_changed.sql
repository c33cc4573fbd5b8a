-- One row per VIN whose customer-months this build recomputes in every month
-- (int_build_window): a repair order, survey response or vehicle record of it
-- was loaded since the last completed build, or its owner's record was, or a
-- re-delivered file replaced such a row (raw.replaced_rows). Empty on a full
-- rebuild, which recomputes every VIN anyway. Insurance rows change no
-- customer-month (renewals are counted from the policies directly).
with

build_window as (
    select * from {{ ref('int_build_window') }}
),

vehicles as (
    select * from {{ ref('int_vehicles_ruled') }}
),

repair_orders as (
    select store_code, vin, customer_id, _loaded_at from {{ source('dms', 'repair_orders') }}
),

survey_responses as (
    select store_code, vin, customer_id, _loaded_at from {{ source('survey', 'responses') }}
),

vehicle_records as (
    select store_code, vin, customer_id, _loaded_at from {{ source('dms', 'vehicles') }}
),

customer_records as (
    select store_code, null::varchar as vin, customer_id, _loaded_at from {{ source('dms', 'customers') }}
),

replaced_rows as (
    select store_code, vin, customer_id, replaced_at as _loaded_at
    from {{ source('reference', 'replaced_rows') }}
    where table_name in ('dms_repair_orders', 'survey_responses', 'dms_vehicles', 'dms_customers')
),

changed_rows as (
    select * from repair_orders
    union all
    select * from survey_responses
    union all
    select * from vehicle_records
    union all
    select * from customer_records
    union all
    select * from replaced_rows
),

since_last_build as (
    select changed_rows.store_code, changed_rows.vin, changed_rows.customer_id
    from changed_rows
    inner join build_window
        on not build_window.is_full_rebuild
        and changed_rows._loaded_at > build_window.changes_loaded_after
),

-- An owner's record changes the customer-months of the vehicles it owns.
owned_vehicles as (
    select vehicles.vin
    from since_last_build
    inner join vehicles
        on vehicles.store_code = since_last_build.store_code
        and vehicles.customer_id = since_last_build.customer_id
    where since_last_build.vin is null
),

final as (
    select vin from since_last_build where vin is not null
    union
    select vin from owned_vehicles
)

select * from final
