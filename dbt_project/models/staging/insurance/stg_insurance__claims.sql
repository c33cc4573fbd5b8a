with

source as {{ cte_not_materialized() }} (
    select * from {{ source('insurance', 'claims') }}
),

latest as (
    {{ latest_version('source', ['claim_no']) }}
),

final as (
    select
        claim_no,
        policy_no,
        vin,
        insurer,
        accident_date,
        assigned_store_code,
        claim_amount,
        status,
        updated_at
    from latest
)

select * from final
