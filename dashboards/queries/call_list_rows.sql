-- The call list (回访名单) of every store, as of the latest data date (not per
-- month): the first $max_rows customers of each store in call order
-- (call_rank 1 = the highest annual spend), with masked contacts only
-- (name_masked 张*, phone_masked 138****5678). The whole list with real names
-- and phone numbers is the export `aftersales call-list --store CODE --out FILE`.
select
    store_code,
    call_rank,
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
    days_since_last_visit,
    estimated_mileage_km,
    mileage_due_date,
    annual_spend,
    lifetime_revenue,
    total_visits,
    churned_on,
    last_survey_date,
    loss_type,
    loss_destination
from marts.call_list
where call_rank <= $max_rows
order by store_code, call_rank
