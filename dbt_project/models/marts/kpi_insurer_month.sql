-- One row per scope (store, region, group) x month end x insurer (SPEC
-- section 7): the insurer mix of the policies the scope's stores sold, and
-- the repairs the insurer's claims brought in or sent elsewhere
-- (insurer-assigned repairs, seed 000). A row exists when the insurer has a
-- policy sold, a claim, or an insurance-paid RO in that scope-month.
with

policies as (
    select * from {{ ref('stg_insurance__policies') }}
),

claims as (
    select * from {{ ref('stg_insurance__claims') }}
),

repair_orders as (
    select * from {{ ref('int_repair_orders_familied') }}
),

stores as (
    select * from {{ ref('stg_reference__stores') }}
),

stores_scoped as (
    select * from {{ ref('int_stores_scoped') }}
),

-- Side a: policies the store's insurance desk sold (本店出单), by start month.
policies_sold as (
    select
        stores_scoped.scope_level,
        stores_scoped.scope_code,
        cast(last_day(policies.start_date) as date) as month_end,
        policies.insurer,
        count(*) as policies_sold,
        count(*) filter (where policies.policy_type = 'commercial') as commercial_policies_sold,
        cast(coalesce(sum(policies.premium), 0) as decimal(18, 2)) as premium
    from policies
    inner join stores_scoped using (store_code)
    where policies.sold_by_store
    group by all
),

scope_policies as (
    select
        scope_level,
        scope_code,
        month_end,
        sum(policies_sold) as scope_policies_sold
    from policies_sold
    group by scope_level, scope_code, month_end
),

-- Side b: claims, rejected ones out, each attributed to the store holding
-- its policy; with no known policy, to the store it was assigned to when
-- that is one of the group's stores; otherwise dropped.
claims_attributed as (
    select
        claims.claim_no,
        claims.insurer,
        claims.claim_amount,
        cast(last_day(claims.accident_date) as date) as month_end,
        nullif(trim(claims.assigned_store_code), '') as assigned_store_code,
        coalesce(policies.store_code, assigned_store.store_code) as attributed_store_code
    from claims
    left join policies using (policy_no)
    left join stores as assigned_store
        on assigned_store.store_code = nullif(trim(claims.assigned_store_code), '')
    where coalesce(claims.status, '') <> 'rejected'
),

claims_scoped as (
    select
        stores_scoped.scope_level,
        stores_scoped.scope_code,
        claims_attributed.month_end,
        claims_attributed.insurer,
        count(*) as claims,
        cast(coalesce(sum(claims_attributed.claim_amount), 0) as decimal(18, 2)) as claim_amount,
        -- Here: the insurer sent the car to a store of this scope.
        count(assigned_scope.store_code) as claims_assigned_here
    from claims_attributed
    inner join stores_scoped
        on stores_scoped.store_code = claims_attributed.attributed_store_code
    left join stores_scoped as assigned_scope
        on assigned_scope.store_code = claims_attributed.assigned_store_code
        and assigned_scope.scope_level = stores_scoped.scope_level
        and assigned_scope.scope_code = stores_scoped.scope_code
    group by all
),

-- Insurance-paid revenue ROs, by the insurer of the claim they link to.
insurance_ros as (
    select
        stores_scoped.scope_level,
        stores_scoped.scope_code,
        repair_orders.month_end,
        claims.insurer,
        count(*) as insurance_ros,
        cast(coalesce(sum(repair_orders.total_amount), 0) as decimal(18, 2)) as insurance_revenue
    from repair_orders
    inner join claims using (claim_no)
    inner join stores_scoped
        on stores_scoped.store_code = repair_orders.store_code
    where repair_orders.is_revenue
        and repair_orders.payer = 'insurance'
    group by all
),

keys as (
    select scope_level, scope_code, month_end, insurer from policies_sold
    union
    select scope_level, scope_code, month_end, insurer from claims_scoped
    union
    select scope_level, scope_code, month_end, insurer from insurance_ros
),

final as (
    select
        keys.scope_level,
        keys.scope_code,
        keys.month_end,
        keys.insurer,
        coalesce(policies_sold.policies_sold, 0) as policies_sold,
        coalesce(policies_sold.commercial_policies_sold, 0) as commercial_policies_sold,
        coalesce(policies_sold.premium, 0) as premium,
        cast(coalesce(scope_policies.scope_policies_sold, 0) as bigint) as scope_policies_sold,
        {{ safe_divide('coalesce(policies_sold.policies_sold, 0)', 'scope_policies.scope_policies_sold') }}
            as policy_share,
        coalesce(claims_scoped.claims, 0) as claims,
        coalesce(claims_scoped.claim_amount, 0) as claim_amount,
        coalesce(claims_scoped.claims_assigned_here, 0) as claims_assigned_here,
        coalesce(claims_scoped.claims - claims_scoped.claims_assigned_here, 0) as claims_assigned_elsewhere,
        {{ safe_divide('claims_scoped.claims_assigned_here', 'claims_scoped.claims') }} as assigned_here_rate,
        coalesce(insurance_ros.insurance_ros, 0) as insurance_ros,
        coalesce(insurance_ros.insurance_revenue, 0) as insurance_revenue
    from keys
    left join policies_sold using (scope_level, scope_code, month_end, insurer)
    left join scope_policies using (scope_level, scope_code, month_end)
    left join claims_scoped using (scope_level, scope_code, month_end, insurer)
    left join insurance_ros using (scope_level, scope_code, month_end, insurer)
)

select * from final
