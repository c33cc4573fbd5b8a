with

source as {{ cte_not_materialized() }} (
    select * from {{ source('crm', 'campaigns') }}
),

latest as (
    {{ latest_version('source', ['store_code', 'campaign_id']) }}
),

final as (
    select
        store_code,
        campaign_id,
        name as campaign_name,
        kind,
        target_reason,
        owner,
        start_date,
        end_date,
        cost,
        expected_returns,
        updated_at
    from latest
)

select * from final
