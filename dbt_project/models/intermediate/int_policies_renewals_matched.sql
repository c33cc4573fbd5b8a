-- Commercial policies of a store's vehicles, each with whether it was renewed
-- (SPEC section 7): a later commercial policy for the same VIN, sold by the
-- same store, starting within the renewal window either side of its end date.
-- Incremental: a build recomputes the policies of the store-vehicles a
-- touched policy or vehicle record names (in_touched_policy_vehicles); a
-- policy's renewal is found among its store-vehicle's policies alone.
-- depends_on: {{ ref('int_build_window') }}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    written_rows='int_policies_renewals_matched_written',
    on_schema_change='fail',
    incremental_predicates=[in_touched_policy_vehicles()],
) }}
with

policies as (
    select * from {{ ref('stg_insurance__policies') }}
    where policy_type = 'commercial'
    {%- if is_incremental() %}
        and ({{ in_touched_policy_vehicles() }})
    {%- endif %}
),

store_vehicles as (
    select store_code, vin from {{ ref('stg_dms__vehicles') }}
    {%- if is_incremental() %}
    where {{ in_touched_policy_vehicles() }}
    {%- endif %}
),

expiring as (
    select policies.*
    from policies
    inner join store_vehicles using (store_code, vin)
),

renewals as (
    select
        expiring.policy_no,
        count(renewal.policy_no) > 0 as is_renewed
    from expiring
    left join policies as renewal
        on renewal.vin = expiring.vin
        and renewal.store_code = expiring.store_code
        and renewal.policy_no <> expiring.policy_no
        and renewal.sold_by_store
        and renewal.start_date > expiring.start_date
        and renewal.start_date between expiring.end_date - {{ var('renewal_window_days') }}
                                   and expiring.end_date + {{ var('renewal_window_days') }}
    group by expiring.policy_no
),

final as (
    select
        expiring.store_code,
        expiring.policy_no,
        expiring.vin,
        expiring.end_date,
        cast(last_day(expiring.end_date) as date) as month_end,
        renewals.is_renewed
    from expiring
    inner join renewals using (policy_no)
)

select * from final
