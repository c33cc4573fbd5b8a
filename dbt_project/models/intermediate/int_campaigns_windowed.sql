-- One row per store and campaign (SPEC section 7, "Campaign effect"): its
-- window W = [start_date, end_date + win-back window], the part of W the data
-- reaches (a running campaign is measured to date), the month end its strata
-- are read at, and the frame its comparison group is drawn from.
--
-- A campaign with a contact file is compared with the store's customers in
-- the same window whom no campaign contacted (a concurrent comparison). A
-- campaign without one treats every customer of the target statuses, so no
-- one is left to compare with at the same time: it is compared with the same
-- strata one year earlier (the frame shifted by 12 months), a before/after
-- comparison (docs/decisions.md, "Campaign effect").
with

campaigns as (
    select * from {{ ref('stg_crm__campaigns') }}
),

contacts as (
    select * from {{ ref('stg_crm__campaign_contacts') }}
),

data_dates as (
    select * from {{ ref('stg_reference__data_dates') }}
),

campaigns_with_contacts as (
    select distinct store_code, campaign_id from contacts
),

windowed as (
    select
        campaigns.store_code,
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.kind as campaign_kind,
        campaigns.target_reason,
        campaigns.owner,
        campaigns.start_date,
        campaigns.end_date,
        cast(campaigns.cost as decimal(18, 2)) as cost,
        cast(campaigns.expected_returns as bigint) as planned_returns,
        campaigns_with_contacts.campaign_id is not null as has_contact_file,
        cast(campaigns.end_date + {{ var('win_back_window_days') }} as date) as window_end,
        data_dates.data_as_of_date as as_of_date,
        -- The month end before start_date: the last one strictly before it.
        cast(last_day(campaigns.start_date - interval 1 month) as date) as strata_month_end
    from campaigns
    cross join data_dates
    left join campaigns_with_contacts
        on campaigns_with_contacts.store_code = campaigns.store_code
        and campaigns_with_contacts.campaign_id = campaigns.campaign_id
),

measured as (
    select
        *,
        window_end > as_of_date as is_running,
        -- Figures to date: W clipped to the data's as-of date. Before the
        -- start nothing is measured yet (measured_through < start_date).
        least(window_end, as_of_date) as measured_through
    from windowed
),

final as (
    select
        *,
        -- The comparison frame: the same window and month end (concurrent),
        -- or both one year earlier (before/after, no contact file).
        case when has_contact_file then strata_month_end
            else cast(last_day(strata_month_end - interval 12 month) as date)
        end as comparison_month_end,
        case when has_contact_file then start_date
            else cast(start_date - interval 12 month as date)
        end as comparison_start_date,
        case when has_contact_file then measured_through
            else cast(measured_through - interval 12 month as date)
        end as comparison_measured_through,
        case when has_contact_file then window_end
            else cast(window_end - interval 12 month as date)
        end as comparison_window_end
    from measured
)

select * from final
