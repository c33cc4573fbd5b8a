-- One row per store, campaign, side and VIN (SPEC section 7, "Campaign
-- effect"): the contacted customers and their comparison group, each with its
-- stratum (churn status and annual spend band at the month end before the
-- start, at the store) and what it did in the measured window: visits,
-- revenue and gross profit, returned or not, and for the contacted whether
-- the return came on or after their own contact.
--
-- side 'contacted': the VINs of the campaign's contact file, or, for a
-- campaign without one, every customer on file at the month end before the
-- start whose status is one of var campaign_target_statuses. A contacted VIN
-- not on file then has no stratum (unmatched downstream).
-- side 'comparison': the store's customers on file at the comparison month
-- end, less the campaign's own contacts and anyone a campaign of the store
-- contacted within the comparison window (int_campaigns_windowed).
--
-- The big relations are read only where a campaign looks: the store rows of
-- the campaigns' stores at the month ends the campaigns need, and the visits
-- of those stores within the campaigns' windows.
-- Incremental: a build measures again only the campaigns its changes reach
-- (int_campaigns_remeasured: in a daily build, the running ones) and replaces
-- their rows; a full build measures every campaign.
-- depends_on: {{ ref('int_campaigns_remeasured') }}
{{ config(
    materialized='incremental',
    incremental_strategy='replace_where',
    on_schema_change='fail',
    incremental_predicates=[in_campaigns_remeasured()],
) }}
with

campaigns as (
    select * from {{ ref('int_campaigns_windowed') }}
    {%- if is_incremental() %}
    where {{ in_campaigns_remeasured() }}
    {%- endif %}
),

contacts as (
    select * from {{ ref('stg_crm__campaign_contacts') }}
),

-- The (store, month end) pairs whose customers a campaign stratifies.
strata_months as (
    select store_code, strata_month_end as month_end from campaigns
    union
    select store_code, comparison_month_end as month_end from campaigns
),

-- The store customer-months at those pairs, from the stored mart: it is kept
-- in month order, so the join's month bounds skip the other months' row
-- groups. int_customer_months_classified is in VIN order and holds every
-- month in every row group: there the read cost the whole table's store
-- rows on every build.
customer_months as (
    select
        stored.store_code,
        stored.month_end,
        stored.vin,
        stored.churn_status,
        stored.annual_spend_band
    -- A hash join on the few pairs: DuckDB pushes their stores' and months'
    -- bounds into the scan as dynamic filters (EXPLAIN ANALYZE), so row groups
    -- outside them are skipped. A range with scalar subqueries instead plans
    -- as nested loops.
    from {{ ref('fct_customer_month_stored') }} as stored
    inner join strata_months
        on strata_months.store_code = stored.store_code
        and strata_months.month_end = stored.month_end
),

visit_span as (
    select
        min(least(start_date, comparison_start_date)) as first_date,
        max(greatest(measured_through, comparison_measured_through)) as last_date
    from campaigns
),

visits as (
    select
        visits.scope_code as store_code,
        visits.vin,
        visits.visit_date,
        visits.revenue,
        visits.revenue - visits.parts_cost as gross_profit
    from {{ ref('int_vehicle_visits_scoped') }} as visits
    cross join visit_span
    where visits.scope_level = 'store'
        and visits.scope_code in (select store_code from campaigns)
        and visits.visit_date between visit_span.first_date and visit_span.last_date
),

listed_contacts as (
    select
        campaigns.store_code,
        campaigns.campaign_id,
        contacts.vin,
        -- A contact without a time counts from the campaign's start.
        coalesce(contacts.contact_date, campaigns.start_date) as contact_date,
        contacts.reached
    from campaigns
    inner join contacts
        on contacts.store_code = campaigns.store_code
        and contacts.campaign_id = campaigns.campaign_id
),

-- No contact file: everyone of the target statuses, treated from the start.
targeted_customers as (
    select
        campaigns.store_code,
        campaigns.campaign_id,
        customer_months.vin,
        campaigns.start_date as contact_date,
        cast(null as boolean) as reached
    from campaigns
    inner join customer_months
        on customer_months.store_code = campaigns.store_code
        and customer_months.month_end = campaigns.strata_month_end
    where not campaigns.has_contact_file
        and customer_months.churn_status in (
            {%- for status in var('campaign_target_statuses') %}'{{ status }}'{{ ', ' if not loop.last }}{% endfor -%}
        )
),

contacted as (
    select
        treated.store_code,
        treated.campaign_id,
        'contacted' as side,
        treated.vin,
        customer_months.churn_status,
        customer_months.annual_spend_band,
        treated.contact_date,
        treated.reached,
        campaigns.start_date as measured_from,
        campaigns.measured_through
    from (select * from listed_contacts union all select * from targeted_customers) as treated
    inner join campaigns
        on campaigns.store_code = treated.store_code
        and campaigns.campaign_id = treated.campaign_id
    left join customer_months
        on customer_months.store_code = treated.store_code
        and customer_months.month_end = campaigns.strata_month_end
        and customer_months.vin = treated.vin
),

-- Whom a campaign of the store contacted within another's comparison window.
contacted_in_window as (
    select distinct campaigns.store_code, campaigns.campaign_id, contacts.vin
    from campaigns
    inner join contacts
        on contacts.store_code = campaigns.store_code
        and (
            contacts.campaign_id = campaigns.campaign_id and campaigns.has_contact_file
            or coalesce(contacts.contact_date, campaigns.comparison_start_date)
                between campaigns.comparison_start_date and campaigns.comparison_window_end
        )
),

comparison as (
    select
        campaigns.store_code,
        campaigns.campaign_id,
        'comparison' as side,
        customer_months.vin,
        customer_months.churn_status,
        customer_months.annual_spend_band,
        cast(null as date) as contact_date,
        cast(null as boolean) as reached,
        campaigns.comparison_start_date as measured_from,
        campaigns.comparison_measured_through as measured_through
    from campaigns
    inner join customer_months
        on customer_months.store_code = campaigns.store_code
        and customer_months.month_end = campaigns.comparison_month_end
    anti join contacted_in_window
        on contacted_in_window.store_code = campaigns.store_code
        and contacted_in_window.campaign_id = campaigns.campaign_id
        and contacted_in_window.vin = customer_months.vin
),

sides as (
    select * from contacted
    union all
    select * from comparison
),

final as (
    select
        sides.store_code,
        sides.campaign_id,
        sides.side,
        sides.vin,
        sides.churn_status,
        sides.annual_spend_band,
        sides.contact_date,
        sides.reached,
        count(visits.visit_date) as visits,
        cast(coalesce(sum(visits.revenue), 0) as decimal(18, 2)) as revenue,
        cast(coalesce(sum(visits.gross_profit), 0) as decimal(18, 2)) as gross_profit,
        count(visits.visit_date) > 0 as is_returned,
        -- The day of the first return in the window: the return curves' step.
        min(visits.visit_date) as first_return_date,
        -- For the contacted: a visit on or after their own contact.
        case when sides.side = 'contacted'
            then count(visits.visit_date) filter (where visits.visit_date >= sides.contact_date) > 0
        end as is_returned_after_contact
    from sides
    left join visits
        on visits.store_code = sides.store_code
        and visits.vin = sides.vin
        and visits.visit_date between sides.measured_from and sides.measured_through
    group by
        sides.store_code, sides.campaign_id, sides.side, sides.vin, sides.churn_status,
        sides.annual_spend_band, sides.contact_date, sides.reached
)

select * from final
