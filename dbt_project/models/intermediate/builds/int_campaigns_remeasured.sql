-- One row per campaign whose measurement this build recomputes
-- (int_campaign_customers_measured), with why; campaign_id NULL for "every
-- campaign of the store", whatever campaigns it had before. Every campaign
-- on a full rebuild. A campaign's rows change only when:
-- - its own campaign row was loaded since the last completed build;
-- - a contact row of its store was loaded since then, of this campaign, or
--   dated (in any version of it) within this campaign's comparison window,
--   or undated: the contact joins its contacted side or leaves its
--   comparison group;
-- - a campaign or contact row of its store was replaced by a re-delivery:
--   every campaign of that store (the row and its dates are gone, and a
--   campaign gone from the file must leave too);
-- - the data date moved within its window: measured_through follows it;
-- - a store customer-month of its strata or comparison month end changed
--   (int_customer_months_changed): a stratum, or who is on file;
-- - one of its store's repair orders entered or left a month its measured
--   windows reach (the repair orders' changes, changed_repair_order_store_months):
--   its visits.
-- A daily build, whose drops hold the day's contacts of the running
-- campaigns, so measures the running campaigns and those a late drop
-- reaches, not the finished ones.
-- depends_on: {{ ref('int_customer_months_classified') }}
-- depends_on: {{ ref('int_repair_orders_familied') }}
with

build_window as (
    select * from {{ ref('int_build_window') }}
),

campaigns as (
    select * from {{ ref('int_campaigns_windowed') }}
),

crm_campaigns as (
    select * from {{ source('crm', 'campaigns') }}
),

crm_contacts as (
    select * from {{ source('crm', 'campaign_contacts') }}
),

replaced_rows as (
    select * from {{ source('reference', 'replaced_rows') }}
),

since as (
    select changes_loaded_after from build_window where not is_full_rebuild
),

touched_campaigns as (
    select store_code, campaign_id from crm_campaigns
    where _loaded_at > (select changes_loaded_after from since)
),

-- Every version of each contact loaded since the last build: an earlier
-- version's date says whose comparison group it left.
touched_contacts as (
    select store_code, campaign_id, cast(contacted_at as date) as contact_date
    from crm_contacts
    where (store_code, campaign_id, vin) in (
        select store_code, campaign_id, vin from crm_contacts
        where _loaded_at > (select changes_loaded_after from since)
    )
),

contacts_reaching as (
    select distinct campaigns.store_code, campaigns.campaign_id
    from campaigns
    inner join touched_contacts
        on touched_contacts.store_code = campaigns.store_code
    where touched_contacts.campaign_id = campaigns.campaign_id
        or touched_contacts.contact_date is null
        or touched_contacts.contact_date
            between campaigns.comparison_start_date and campaigns.comparison_window_end
),

replaced_stores as (
    select distinct store_code from replaced_rows
    where table_name in ('crm_campaigns', 'crm_campaign_contacts')
        and replaced_at > (select changes_loaded_after from since)
),

date_moved as (
    select campaigns.store_code, campaigns.campaign_id
    from campaigns
    cross join build_window
    where not build_window.is_full_rebuild
        and build_window.data_as_of_date is distinct from build_window.previous_data_as_of_date
        and campaigns.window_end > least(build_window.data_as_of_date, build_window.previous_data_as_of_date)
),

strata_changed as (
    select distinct campaigns.store_code, campaigns.campaign_id
    from campaigns
    inner join {{ changed_customer_months() }} as changed
        on changed.scope_code = campaigns.store_code
        and changed.month_end in (campaigns.strata_month_end, campaigns.comparison_month_end)
    where changed.scope_level = 'store'
        and not (select is_full_rebuild from build_window)
),

visits_changed as (
    select distinct campaigns.store_code, campaigns.campaign_id
    from campaigns
    inner join ({{ changed_repair_order_store_months() }}) as changed
        on changed.store_code = campaigns.store_code
        and changed.month_end
            between last_day(least(campaigns.start_date, campaigns.comparison_start_date))
            and last_day(greatest(campaigns.measured_through, campaigns.comparison_measured_through))
    where not (select is_full_rebuild from build_window)
),

final as (
    select store_code, cast(null as string) as campaign_id, 'crm rows of the store replaced' as reason
    from replaced_stores
    union all
    select store_code, campaign_id, 'its campaign row loaded' from touched_campaigns
    union all
    select store_code, campaign_id, 'a contact of it, or in its comparison window, loaded' from contacts_reaching
    union all
    select store_code, campaign_id, 'the data date moved within its window' from date_moved
    union all
    select store_code, campaign_id, 'a customer-month of its strata or comparison month changed'
    from strata_changed
    union all
    select store_code, campaign_id, 'a repair order of its store entered or left its window'
    from visits_changed
    union all
    select store_code, campaign_id, 'full rebuild'
    from campaigns
    where (select is_full_rebuild from build_window)
)

select * from final
