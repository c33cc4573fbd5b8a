-- One row per store x customer to phone, as of the last data date: at risk,
-- churned within the last call_list_churned_within_months (12), or hidden
-- churn (active by time, overdue by mileage). Customers whose latest survey
-- says the car was sold or the owner moved, and vehicles now served by a
-- sibling store, are left off: a call cannot win them back. Ranked by annual
-- spend, the most valuable first. Contacts are masked; the export
-- (`aftersales call-list`) looks the real ones up in raw by customer_id.
with

data_dates as (
    select * from {{ ref('stg_reference__data_dates') }}
),

-- The data date's month: the one month both reads below filter on.
data_month as (
    select cast(last_day(data_as_of_date) as date) as month_end from data_dates
),

-- The stored store customer-months of the data date's month. That table is
-- kept in month order, so the filter reads the month's row groups only;
-- int_customer_months_classified, in VIN order, held the month's rows in
-- every row group (100 stores, the whole model: 10.8 s -> 1.6 s cold).
customer_months as (
    select * from {{ ref('fct_customer_month_stored') }}
    where month_end = (select month_end from data_month)
),

current_month as (
    select
        customer_months.*,
        data_dates.data_as_of_date as as_of_date,
        {{ estimated_mileage_km('customer_months', 'data_dates.data_as_of_date') }} as estimated_mileage_km
    from customer_months
    inner join data_dates
        on customer_months.month_end = cast(last_day(data_dates.data_as_of_date) as date)
),

to_call as (
    select
        *,
        case
            when is_hidden_churn then 'hidden_churn'
            when churn_status = 'at_risk' then 'at_risk'
            when churn_status = 'churned'
                and churned_since > {{ add_months('as_of_date', -var('call_list_churned_within_months')) }}
                then 'churned'
        end as call_reason
    from current_month
    where not is_group_transfer
        and coalesce(loss_type, '') <> 'natural'
),

listed as (
    select * from to_call
    where call_reason is not null
),

-- Who to ask for at the store: the masked contact and the DMS customer id
-- (which the export looks the real contact up by) of the vehicle's owner as
-- the store records them (the marts do not publish them); looked up for the
-- listed customers only, not for every vehicle of the group.
with_contacts as (
    select
        listed.*,
        vehicles.customer_id,
        customers.name_masked,
        customers.phone_masked
    from listed
    left join {{ ref('int_vehicles_ruled') }} as vehicles
        on vehicles.store_code = listed.store_code
        and vehicles.vin = listed.vin
    left join {{ ref('stg_dms__customers') }} as customers
        on customers.store_code = vehicles.store_code
        and customers.customer_id = vehicles.customer_id
),

final as (
    select
        store_code,
        cast(row_number() over (
            partition by store_code order by annual_spend desc, vin
        ) as integer) as call_rank,
        as_of_date,
        call_reason,
        churn_status,
        customer_key,
        customer_id,
        vin,
        name_masked,
        phone_masked,
        brand,
        model,
        customer_type,
        last_visit_date,
        last_service_type,
        cast({{ days_between('as_of_date', 'last_visit_date') }} as integer) as days_since_last_visit,
        estimated_mileage_km,
        mileage_due_date,
        annual_spend,
        lifetime_revenue,
        total_visits,
        case when churn_status = 'churned' then churned_since end as churned_on,
        last_survey_date,
        loss_type,
        loss_destination
    from with_contacts
)

select * from final
