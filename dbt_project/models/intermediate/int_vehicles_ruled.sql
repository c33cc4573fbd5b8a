-- One row per store and VIN the store knows (vehicle master or a repair
-- order): brand, model, purchase, current owner, and the churn and service
-- thresholds that apply to it (SPEC section 6). Thresholds: the model's own
-- row of the churn_rules seed, else its brand's, else the project defaults.
-- Incremental: a build recomputes the rows of the changed vehicles (a
-- vehicle record or repair order of them touched); the rules and stores are
-- in the build's fingerprint.
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    on_schema_change='fail',
    incremental_predicates=[in_changed_vins()],
) }}
with

vehicles as (
    select * from {{ ref('stg_dms__vehicles') }}
    {%- if is_incremental() %}
    where {{ in_changed_vins() }}
    {%- endif %}
),

repair_orders as (
    select * from {{ ref('stg_dms__repair_orders') }}
    {%- if is_incremental() %}
    where {{ in_changed_vins() }}
    {%- endif %}
),

stores as (
    select * from {{ ref('stg_reference__stores') }}
),

rules as (
    select * from {{ ref('churn_rules') }}
),

-- The owner on the latest RO, for a VIN the vehicle master does not hold.
latest_ro_owner as (
    select store_code, vin, {{ value_of_last('customer_id', ['opened_at', 'ro_number']) }} as customer_id
    from repair_orders
    group by store_code, vin
),

known as (
    select store_code, vin from vehicles
    union
    select store_code, vin from latest_ro_owner
),

attributed as (
    select
        known.store_code,
        known.vin,
        coalesce(vehicles.customer_id, latest_ro_owner.customer_id) as customer_id,
        coalesce(vehicles.brand, stores.brand) as brand,
        vehicles.model,
        vehicles.model_year,
        vehicles.purchase_date,
        coalesce(vehicles.sold_by_store, false) as sold_by_store
    from known
    left join vehicles using (store_code, vin)
    left join latest_ro_owner using (store_code, vin)
    left join stores using (store_code)
),

final as (
    select
        attributed.*,
        coalesce(model_rule.at_risk_after_months, brand_rule.at_risk_after_months,
                 {{ var('default_at_risk_after_months') }}) as at_risk_after_months,
        coalesce(model_rule.churned_after_months, brand_rule.churned_after_months,
                 {{ var('default_churned_after_months') }}) as churned_after_months,
        coalesce(model_rule.service_interval_months, brand_rule.service_interval_months,
                 {{ var('default_service_interval_months') }}) as service_interval_months,
        coalesce(model_rule.service_interval_km, brand_rule.service_interval_km,
                 {{ var('default_service_interval_km') }}) as service_interval_km
    from attributed
    left join rules as model_rule
        on model_rule.brand = attributed.brand and model_rule.model = attributed.model
    left join rules as brand_rule
        on brand_rule.brand = attributed.brand and brand_rule.model is null
)

select * from final
