-- The columns of marts.kpi_store_month (SPEC section 10) computed a second
-- time, straight from the landing CSVs, in one set-based DuckDB script: the
-- reference `aftersales bench` times the pipeline against, and a test checks
-- the mart with (tests/test_reference_kpi.py). It shares no code with the dbt
-- models.
--
-- Inputs, set before the script runs:
--   getvariable('landing')      the landing root (SPEC section 3), every file UTF-8
--                               (DuckDB 1.5 without the encodings extension cannot
--                               read GB18030: the bench gives it a UTF-8 copy)
--   getvariable('churn_rules')  dbt_project/seeds/churn_rules.csv
-- Columns are read by position, in the order of the landing contract, so files
-- with Chinese headers read like the English ones; Chinese labels, flags and
-- YYYY/MM/DD dates are mapped below. The CSV dialect is given, not sniffed:
-- DuckDB 1.5.6 applies the first file's sniffed dialect to a whole glob and
-- silently skips the rows of files whose line ends differ (LF vs CRLF stores). Ties of updated_at within one key go to
-- the later drop (the line order within a file is not used).

create or replace temp macro is_flag_true(x) as upper(trim(x)) in ('Y', '是', '1', 'TRUE');
create or replace temp macro as_date(x) as cast(replace(nullif(trim(x), ''), '/', '-') as date);
create or replace temp macro drop_date_of(f) as cast(regexp_extract(f, '(\d{4}-\d{2}-\d{2})[/\\][^/\\]+$', 1) as date);

-- The data date: the latest drop any store delivered.
create or replace temp table data_date as
select max(drop_date_of(file)) as as_of
from glob(getvariable('landing') || '/*/*/*/*.csv');

-- Repair orders, latest version per (store_code, ro_number).
create or replace temp table repair_orders as
select
    store_code,
    vin,
    cast(cast(opened_at as timestamp) as date) as visit_date,
    case status when '已结算' then 'closed' when '在修' then 'open' when '作废' then 'cancelled' else status end
        as status,
    case payer when '自费' then 'customer' when '厂家' then 'warranty' when '保险' then 'insurance'
               when '内部' then 'internal' else payer end as payer,
    cast(labor_amount as decimal(18, 2)) as labor_amount,
    cast(parts_amount as decimal(18, 2)) as parts_amount,
    cast(total_amount as decimal(18, 2)) as total_amount
from read_csv(
    getvariable('landing') || '/dms/*/*/repair_orders.csv',
    header = true, filename = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
    columns = {'ro_number': 'varchar', 'store_code': 'varchar', 'customer_id': 'varchar',
               'vin': 'varchar', 'opened_at': 'varchar', 'closed_at': 'varchar', 'mileage_km': 'varchar',
               'service_type': 'varchar', 'payer': 'varchar', 'labor_amount': 'varchar',
               'parts_amount': 'varchar', 'other_amount': 'varchar', 'discount_amount': 'varchar',
               'total_amount': 'varchar', 'parts_cost': 'varchar', 'advisor_code': 'varchar',
               'status': 'varchar', 'claim_no': 'varchar', 'updated_at': 'varchar'}
)
qualify row_number() over (
    partition by store_code, ro_number
    order by cast(updated_at as timestamp) desc, drop_date_of(filename) desc
) = 1;

-- Vehicle master, latest version per (store_code, vin).
create or replace temp table vehicles as
select store_code, vin, brand, model
from read_csv(
    getvariable('landing') || '/dms/*/*/vehicles.csv',
    header = true, filename = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
    columns = {'vin': 'varchar', 'store_code': 'varchar', 'customer_id': 'varchar', 'plate_no': 'varchar',
               'brand': 'varchar', 'model': 'varchar', 'model_year': 'varchar',
               'purchase_date': 'varchar', 'sold_by_store': 'varchar', 'updated_at': 'varchar'}
)
qualify row_number() over (
    partition by store_code, vin order by cast(updated_at as timestamp) desc, drop_date_of(filename) desc
) = 1;

-- Commercial policies, latest version per policy_no.
create or replace temp table commercial_policies as
select * from (
    select
        policy_no,
        store_code,
        vin,
        policy_type in ('commercial', '商业险') as is_commercial,
        as_date(start_date) as start_date,
        as_date(end_date) as end_date,
        is_flag_true(sold_by_store) as sold_by_store
    from read_csv(
        getvariable('landing') || '/insurance/*/*/policies.csv',
        header = true, filename = true, auto_detect = false, delim = ',', quote = '"', escape = '"',
        columns = {'policy_no': 'varchar', 'store_code': 'varchar', 'vin': 'varchar', 'insurer': 'varchar',
                   'policy_type': 'varchar', 'start_date': 'varchar', 'end_date': 'varchar',
                   'premium': 'varchar', 'sold_by_store': 'varchar', 'is_renewal': 'varchar',
                   'updated_at': 'varchar'}
    )
    qualify row_number() over (
        partition by policy_no order by cast(updated_at as timestamp) desc, drop_date_of(filename) desc
    ) = 1
)
where is_commercial;

-- A visit is a distinct (store, vin, day) among qualifying ROs (closed, not
-- internal); money counts the revenue ROs (payer customer or insurance) only.
-- Annual spend at a visit: revenue in the 365 days ending on it.
create or replace temp table visit_days as
select
    *,
    sum(revenue) over (
        partition by store_code, vin order by visit_date
        range between interval 364 day preceding and current row
    ) as annual_spend
from (
    select
        store_code,
        vin,
        visit_date,
        bool_or(payer in ('customer', 'insurance')) as is_paid,
        coalesce(sum(total_amount) filter (where payer in ('customer', 'insurance')), 0) as revenue,
        coalesce(sum(labor_amount) filter (where payer in ('customer', 'insurance')), 0) as labor_amount,
        coalesce(sum(parts_amount) filter (where payer in ('customer', 'insurance')), 0) as parts_amount
    from repair_orders
    where status = 'closed' and payer <> 'internal'
    group by all
);

-- Churn thresholds per customer: the vehicle's brand (else the store's), its
-- model's rule, else its brand's, else 6 and 12 months.
create or replace temp table customer_thresholds as
with
rules as (
    select * from read_csv(getvariable('churn_rules'), header = true, all_varchar = true)
),
stores as (
    select * from read_csv(getvariable('landing') || '/reference/stores.csv', header = true, auto_detect = false,
                           columns = {'store_code': 'varchar', 'store_name': 'varchar', 'brand': 'varchar', 'city': 'varchar',
                                      'province': 'varchar', 'region': 'varchar', 'opened_on': 'varchar'})
),
customers as (
    select distinct store_code, vin from visit_days
)
select
    customers.store_code,
    customers.vin,
    min(visit_days.visit_date) as first_visit_date,
    coalesce(any_value(model_rule.at_risk_after_months), any_value(brand_rule.at_risk_after_months), '6')::int
        as at_risk_months,
    coalesce(any_value(model_rule.churned_after_months), any_value(brand_rule.churned_after_months), '12')::int
        as churned_months
from customers
join visit_days using (store_code, vin)
left join vehicles using (store_code, vin)
left join stores using (store_code)
left join rules as model_rule
    on model_rule.brand = coalesce(vehicles.brand, stores.brand) and model_rule.model = vehicles.model
left join rules as brand_rule
    on brand_rule.brand = coalesce(vehicles.brand, stores.brand) and coalesce(brand_rule.model, '') = ''
group by all;

-- One row per customer and month end from the month of the first visit to the
-- data date's month; as of the month end (the data date in the last month).
create or replace temp table customer_months as
with
months as (
    select
        cast(last_day(month_start) as date) as month_end,
        least(cast(last_day(month_start) as date), (select as_of from data_date)) as as_of
    from (
        select unnest(generate_series(
            date_trunc('month', (select min(visit_date) from visit_days)),
            date_trunc('month', (select as_of from data_date)),
            interval 1 month
        )) as month_start
    )
),
spine as (
    select customer_thresholds.*, months.month_end, months.as_of
    from customer_thresholds
    join months on months.month_end >= last_day(customer_thresholds.first_visit_date)
)
select
    spine.store_code,
    spine.month_end,
    case
        when spine.as_of < last_visit.visit_date + to_months(spine.at_risk_months) then 'active'
        when spine.as_of < last_visit.visit_date + to_months(spine.churned_months) then 'at_risk'
        else 'churned'
    end as churn_status,
    last_visit.annual_spend
from spine
asof join visit_days as last_visit
    on last_visit.store_code = spine.store_code
    and last_visit.vin = spine.vin
    and last_visit.visit_date <= spine.as_of;

-- Six-month cohort of month N: customers with a visit in month N-6; returned:
-- those with a visit in months N-5 .. N.
create or replace temp table cohorts as
with visit_months as (
    select distinct store_code, vin, date_trunc('month', visit_date) as month_start from visit_days
)
select
    store_code,
    cast(last_day(month_start + interval 6 month) as date) as month_end,
    count(*) as cohort_size,
    count(*) filter (where next_month_start <= month_start + interval 6 month) as cohort_returned
from (
    select *, lead(month_start) over (partition by store_code, vin order by month_start) as next_month_start
    from visit_months
)
group by all;

-- Renewals: a store's commercial policies for vehicles in its master, by the
-- month of their end date; renewed by a later commercial policy of the same
-- VIN in the same store's drops, sold by the store, starting within 30 days
-- either side of the end date.
create or replace temp table renewals as
select
    expiring.store_code,
    cast(last_day(expiring.end_date) as date) as month_end,
    count(*) as policies_expiring,
    count(*) filter (where exists (
        select 1 from commercial_policies as renewal
        where renewal.vin = expiring.vin
          and renewal.store_code = expiring.store_code
          and renewal.policy_no <> expiring.policy_no
          and renewal.sold_by_store
          and renewal.start_date > expiring.start_date
          and renewal.start_date between expiring.end_date - 30 and expiring.end_date + 30
    )) as policies_renewed
from commercial_policies as expiring
semi join vehicles using (store_code, vin)
group by all;

with
statuses as (
    select
        store_code,
        month_end,
        count(*) as on_file,
        count(*) filter (where churn_status = 'active') as active,
        count(*) filter (where churn_status = 'at_risk') as at_risk,
        count(*) filter (where churn_status = 'churned') as churned,
        sum(annual_spend) filter (where churn_status = 'churned') as churned_spend,
        sum(annual_spend) as on_file_spend
    from customer_months
    group by all
),
money as (
    select
        store_code,
        cast(last_day(visit_date) as date) as month_end,
        count(*) as visits,
        count(*) filter (where is_paid) as paid_visits,
        sum(revenue) as revenue,
        sum(labor_amount) as labor_amount,
        sum(parts_amount) as parts_amount
    from visit_days
    group by all
)
select
    statuses.store_code,
    statuses.month_end,
    statuses.on_file,
    statuses.active,
    statuses.at_risk,
    statuses.churned,
    statuses.churned / nullif(statuses.on_file, 0) as churn_rate,
    cast(coalesce(statuses.churned_spend, 0) as double) / nullif(cast(statuses.on_file_spend as double), 0)
        as value_weighted_churn_rate,
    coalesce(cohorts.cohort_size, 0) as cohort_size,
    coalesce(cohorts.cohort_returned, 0) as cohort_returned,
    1 - cohorts.cohort_returned / nullif(cohorts.cohort_size, 0) as cohort_churn_rate,
    coalesce(money.visits, 0) as visits,
    coalesce(money.paid_visits, 0) as paid_visits,
    cast(coalesce(money.revenue, 0) as decimal(18, 2)) as revenue,
    cast(round(money.revenue / nullif(money.paid_visits, 0), 2) as decimal(18, 2)) as per_ticket_value,
    cast(coalesce(money.labor_amount, 0) as decimal(18, 2)) as labor_amount,
    cast(coalesce(money.parts_amount, 0) as decimal(18, 2)) as parts_amount,
    cast(money.parts_amount as double) / nullif(cast(money.labor_amount as double), 0) as labor_parts_ratio,
    coalesce(renewals.policies_expiring, 0) as policies_expiring,
    coalesce(renewals.policies_renewed, 0) as policies_renewed,
    renewals.policies_renewed / nullif(renewals.policies_expiring, 0) as renewal_rate
from statuses
left join money using (store_code, month_end)
left join cohorts using (store_code, month_end)
left join renewals using (store_code, month_end)
order by statuses.store_code, statuses.month_end;
