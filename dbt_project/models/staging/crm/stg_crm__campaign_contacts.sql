with

source as {{ cte_not_materialized() }} (
    select * from {{ source('crm', 'campaign_contacts') }}
),

latest as (
    {{ latest_version('source', ['store_code', 'campaign_id', 'vin']) }}
),

final as (
    select
        store_code,
        campaign_id,
        vin,
        customer_id,
        contacted_at,
        cast(contacted_at as date) as contact_date,
        channel,
        coalesce(reached, false) as reached,
        offer,
        updated_at
    from latest
)

select * from final
