"""A synthetic warehouse holding only the three marts, to preview the pages
and to time the renderer before (or without) a real dbt build.

    python -m dashboards.sample_marts --out /tmp/sample.duckdb --stores 100 --months 36
    python -m dashboards.render --warehouse /tmp/sample.duckdb --out /tmp/dash

The figures are random but internally consistent: marts.kpi_store_month is
aggregated from marts.fct_customer_month with the SPEC's rules (status from
months since the last visit, cohort churn over months N-6 .. N). It is not
the dbt models and must not be used to test them.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import duckdb

from dashboards.marts_schema import create_mart_tables

BRANDS = ("丰田 Toyota", "本田 Honda", "大众 Volkswagen", "别克 Buick", "日产 Nissan")
MODELS = ("A", "B", "C", "D", "E", "F")
WARMUP_MONTHS = 24  # simulated history before the first reported month
REGIONS = ("华东 East", "华南 South", "华北 North", "西南 Southwest")
CITIES = (("上海", "上海"), ("杭州", "浙江"), ("广州", "广东"), ("深圳", "广东"), ("北京", "北京"), ("成都", "四川"))


def write_sample_marts(
    path: Path,
    *,
    stores: int = 5,
    months: int = 12,
    customers_per_store: int = 150,
    first_month: date = date(2022, 1, 1),
    seed: int = 7,
) -> Path:
    """Create `path` (replacing it) with synthetic marts.dim_stores,
    marts.fct_customer_month and marts.kpi_store_month."""
    path = Path(path)
    path.unlink(missing_ok=True)
    con = duckdb.connect(str(path))
    try:
        create_mart_tables(con)
        params = {
            "stores": stores,
            "months": months,
            "customers": customers_per_store,
            "first": first_month,
            "seed": seed,
            "warmup": WARMUP_MONTHS,
            "brands": list(BRANDS),
            "models": list(MODELS),
            "regions": list(REGIONS),
            "cities": [c for c, _ in CITIES],
            "provinces": [p for _, p in CITIES],
        }
        con.execute(
            """
            insert into marts.dim_stores (store_code, store_name, brand, city, province, region, opened_on)
            select printf('S%03d', i), '样例门店' || i, $brands[1 + i % len($brands)],
                   $cities[1 + i % len($cities)], $provinces[1 + i % len($provinces)],
                   $regions[1 + i % len($regions)], date '2015-01-01' + to_days(i * 37)
            from range(1, $stores + 1) t(i)
            """,
            {k: params[k] for k in ("stores", "brands", "cities", "provinces", "regions")},
        )
        con.execute(
            """
            create temp table cm as
            with months as (
                select m, last_day($first + to_months(m)) as month_end
                from range(-$warmup, $months) t(m)
            ),
            customers as (
                select d.store_code, d.brand, c,
                       printf('LVS%s%07d', d.store_code, c) as vin,
                       -- first visit month, spread over a warm-up period before the
                       -- reported months so that the first months already show churn
                       (hash(d.store_code, c, $seed, 'f') % ($months + $warmup))::int - $warmup as first_m,
                       0.06 + (hash(d.store_code, c, $seed, 'p') % 30) / 100.0 as p_visit,
                       $models[1 + (hash(d.store_code, c, $seed, 'mdl') % len($models))::int] as model
                from marts.dim_stores d, range(0, $customers) t(c)
            ),
            grid as (
                select c.*, m.m, m.month_end,
                       (m.m = c.first_m
                        or (m.m > c.first_m
                            and (hash(c.store_code, c.c, m.m, $seed) % 1000) / 1000.0 < c.p_visit)) as visited
                from customers c join months m on m.m >= c.first_m
            )
            select *,
                   max(case when visited then m end) over w as last_m,
                   max(case when visited then m end) over (w rows between unbounded preceding and 1 preceding)
                       as prev_last_m,
                   coalesce(bool_or(visited) over (w rows between 1 following and 6 following), false)
                       as visits_in_next_six_months
            from grid
            window w as (partition by store_code, vin order by m)
            """,
            {k: params[k] for k in ("first", "months", "seed", "models", "customers", "warmup")},
        )
        con.execute(
            """
            insert into marts.fct_customer_month (
                store_code, vin, month_end, as_of_date, customer_key, brand, model,
                visits, paid_visits, revenue, labor_amount, parts_amount, parts_cost,
                first_visit_date, last_visit_date, annual_spend, churn_status,
                is_new, is_won_back, visits_in_next_six_months,
                mileage_due_date, overdue_by_mileage, is_hidden_churn, loss_type
            )
            select store_code, vin, month_end,
                   case when m = $months - 1 then month_end - 9 else month_end end,
                   md5(vin)[1:16], brand, model,
                   visited::int, visited::int,
                   case when visited then (300 + hash(vin, m) % 2700)::decimal(18,2) else 0 end,
                   case when visited then (120 + hash(vin, m) % 1000)::decimal(18,2) else 0 end,
                   case when visited then (180 + hash(vin, m) % 1700)::decimal(18,2) else 0 end,
                   case when visited then (120 + hash(vin, m) % 1100)::decimal(18,2) else 0 end,
                   -- visits fall on the 10th day before a month's end
                   last_day($first + to_months(first_m)) - 10,
                   last_day($first + to_months(last_m)) - 10,
                   (400 + hash(vin) % 6000)::decimal(18,2),
                   case when m - last_m < 6 then 'active'
                        when m - last_m < 12 then 'at_risk' else 'churned' end,
                   m = first_m,
                   visited and prev_last_m is not null and m - 1 - prev_last_m >= 12,
                   visits_in_next_six_months,
                   null, false,
                   m - last_m < 6 and hash(vin, 'hid') % 20 = 0,
                   case when m - last_m >= 6 then
                       (['natural', 'insurer_assigned', 'competitor', 'unknown', null])[1 + (hash(vin, 'loss') % 5)::int]
                   end
            from cm
            where m >= 0
            """,
            {"months": months, "first": first_month},
        )
        con.execute(
            """
            insert into marts.kpi_store_month (
                store_code, month_end, as_of_date,
                on_file, active, at_risk, churned, base_customers, new_customers, won_back, hidden_churn,
                churn_rate,
                churned_annual_spend, on_file_annual_spend, value_weighted_churn_rate,
                cohort_size, cohort_returned,
                cohort_churn_rate,
                cohort_retention_rate,
                visits, paid_visits, revenue, per_ticket_value,
                labor_amount, parts_amount, labor_parts_ratio,
                labor_share,
                parts_cost, gross_profit, gross_margin,
                policies_expiring, policies_renewed,
                renewal_rate,
                value_at_risk
            )
            with f as (
                select * from marts.fct_customer_month
            ),
            agg as (
                select store_code, month_end, max(as_of_date) as as_of_date,
                       count(*) as on_file,
                       count(*) filter (where churn_status = 'active') as active,
                       count(*) filter (where churn_status = 'at_risk') as at_risk,
                       count(*) filter (where churn_status = 'churned') as churned,
                       count(*) filter (where is_new) as new_customers,
                       count(*) filter (where is_won_back) as won_back,
                       count(*) filter (where is_hidden_churn) as hidden_churn,
                       coalesce(sum(annual_spend) filter (where churn_status = 'churned'), 0) as churned_spend,
                       coalesce(sum(annual_spend), 0) as on_file_spend,
                       coalesce(sum(annual_spend) filter (where churn_status = 'at_risk'), 0) as value_at_risk,
                       sum(visits) as visits, sum(paid_visits) as paid_visits,
                       sum(revenue) as revenue, sum(labor_amount) as labor_amount,
                       sum(parts_amount) as parts_amount, sum(parts_cost) as parts_cost,
                       count(*) // 9 as policies_expiring
                from f group by all
            ),
            cohort as (
                select a.store_code, a.month_end,
                       count(distinct a.vin) as cohort_size,
                       count(distinct case when b.vin is not null then a.vin end) as cohort_returned
                from marts.fct_customer_month a
                left join marts.fct_customer_month b
                  on b.store_code = a.store_code and b.vin = a.vin and b.visits > 0
                 and b.month_end > a.month_end and b.month_end <= last_day(a.month_end + interval 6 month)
                where a.visits > 0
                group by all
            )
            select k.store_code, k.month_end, k.as_of_date,
                   on_file, active, at_risk, churned, active + at_risk, new_customers, won_back, hidden_churn,
                   churned / nullif(on_file, 0),
                   churned_spend, on_file_spend, churned_spend / nullif(on_file_spend, 0),
                   coalesce(c.cohort_size, 0), coalesce(c.cohort_returned, 0),
                   1 - c.cohort_returned / nullif(c.cohort_size, 0),
                   c.cohort_returned / nullif(c.cohort_size, 0),
                   visits, paid_visits, revenue, (revenue / nullif(paid_visits, 0))::decimal(18,2),
                   labor_amount, parts_amount, parts_amount / nullif(labor_amount, 0),
                   labor_amount / nullif(labor_amount + parts_amount, 0),
                   parts_cost, revenue - parts_cost, (revenue - parts_cost) / nullif(revenue, 0),
                   policies_expiring, (policies_expiring * 0.6)::bigint,
                   (policies_expiring * 0.6)::bigint / nullif(policies_expiring, 0),
                   value_at_risk
            from agg k
            left join cohort c
              on c.store_code = k.store_code
             and c.month_end = last_day(k.month_end - interval 6 month)
            """
        )
    finally:
        con.close()
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dashboards.sample_marts", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--stores", type=int, default=5)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--customers", type=int, default=150)
    args = parser.parse_args(argv)
    write_sample_marts(args.out, stores=args.stores, months=args.months, customers_per_store=args.customers)
    print(f"sample marts written to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
