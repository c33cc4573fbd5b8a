"""`aftersales run` on a generated landing, through the real CLI: marts and
pages exist and agree, and key figures equal an independent computation made
here in plain Python straight from the landing CSVs (SPEC sections 3, 5, 6)."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import re
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from sources.contract import ENUMERATIONS, REPAIR_ORDERS
from sources.demo import generate_landing

STORES = 3


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("e2e")
    landing = root / "landing"
    generate_landing(landing, seed=11, stores=STORES, years=2, vehicles_per_store=60)
    args = [
        sys.executable, "-m", "orchestration.cli", "run",
        "--landing", str(landing),
        "--warehouse", str(root / "warehouse.duckdb"),
        "--dashboards", str(root / "dashboards"),
        "--data-docs", str(root / "data_docs"),
    ]
    first = subprocess.run(args, capture_output=True, text=True)
    kpis_after_first = _kpis(root / "warehouse.duckdb")
    second = subprocess.run(args, capture_output=True, text=True)
    return root, landing, first, second, kpis_after_first


def _kpis(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select * from marts.kpi_store_month order by store_code, month_end").fetchall()


def _read_landing_csv(path: Path) -> list[dict]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
    rows = list(csv.reader(io.StringIO(text)))
    zh_to_en = {c.zh: c.name for c in REPAIR_ORDERS.columns}
    header = [zh_to_en.get(h, h) for h in rows[0]]
    return [dict(zip(header, r)) for r in rows[1:]]


def _english(domain: str, value: str) -> str:
    for code, zh in ENUMERATIONS[domain].items():
        if value in (code, zh):
            return code
    raise AssertionError(f"unknown {domain} {value!r}")


def _add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def _independent_figures(landing: Path):
    """Latest version of every RO, then visits and revenue per store-month and
    each VIN's last visit, computed without the project's SQL."""
    latest: dict[tuple, tuple] = {}
    for path in sorted(landing.glob("dms/*/*/repair_orders.csv")):
        drop = path.parent.name
        for r in _read_landing_csv(path):
            key = (r["store_code"], r["ro_number"])
            version = (r["updated_at"], drop)
            if key not in latest or version >= latest[key][0]:
                latest[key] = (version, r)
    visits = defaultdict(set)
    paid = defaultdict(set)
    revenue = defaultdict(Decimal)
    last_visit: dict[tuple, dt.date] = {}
    for (store, _), (_, r) in latest.items():
        status, payer = _english("ro_status", r["status"]), _english("payer", r["payer"])
        if status != "closed" or payer == "internal":
            continue
        day = dt.date.fromisoformat(r["opened_at"][:10].replace("/", "-"))
        month = (day.year, day.month)
        visits[(store, month)].add((r["vin"], day))
        last_visit[(store, r["vin"])] = max(day, last_visit.get((store, r["vin"]), day))
        if payer in ("customer", "insurance"):
            paid[(store, month)].add((r["vin"], day))
            revenue[(store, month)] += Decimal(r["total_amount"])
    return visits, paid, revenue, last_visit


def test_run_succeeds_and_says_where_things_are(built):
    root, _, first, _, _ = built
    assert first.returncode == 0, first.stdout + first.stderr
    assert "aftersales run: OK" in first.stdout
    assert str(root / "warehouse.duckdb") in first.stdout
    assert str(root / "dashboards" / "index.html") in first.stdout


def test_visits_and_revenue_equal_an_independent_computation(built):
    root, landing, _, _, _ = built
    visits, paid, revenue, _ = _independent_figures(landing)
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select store_code, month_end, visits, paid_visits, revenue from marts.kpi_store_month"
        ).fetchall()
    assert len({r[0] for r in rows}) == STORES
    checked = 0
    for store, month_end, n_visits, n_paid, money in rows:
        key = (store, (month_end.year, month_end.month))
        assert n_visits == len(visits.get(key, ())), key
        assert n_paid == len(paid.get(key, ())), key
        assert money == revenue.get(key, Decimal("0.00")), key
        checked += n_visits
    assert checked == sum(len(v) for v in visits.values()) > 0


def test_churn_status_at_the_last_month_equals_an_independent_computation(built):
    root, landing, _, _, _ = built
    _, _, _, last_visit = _independent_figures(landing)
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        as_of = con.execute("select max(as_of_date) from marts.kpi_store_month").fetchone()[0]
        got = con.execute(
            """select store_code, on_file, active, at_risk, churned from marts.kpi_store_month
               where as_of_date = ? order by store_code""",
            [as_of],
        ).fetchall()
        thresholds = dict(
            con.execute(
                """select f.store_code || '|' || f.vin, (r.at_risk_after_months, r.churned_after_months)
                   from marts.fct_customer_month f
                   left join seeds.churn_rules r on r.brand = f.brand and r.model is null
                   where f.as_of_date = ?""",
                [as_of],
            ).fetchall()
        )
    expected = defaultdict(lambda: [0, 0, 0, 0])
    for (store, vin), last in last_visit.items():
        a, c = thresholds.get(f"{store}|{vin}") or (6, 12)
        a, c = a or 6, c or 12
        counts = expected[store]
        counts[0] += 1
        if as_of < _add_months(last, a):
            counts[1] += 1
        elif as_of < _add_months(last, c):
            counts[2] += 1
        else:
            counts[3] += 1
    assert got == [(store, *expected[store]) for store in sorted(expected)]
    assert sum(r[4] for r in got) > 0, "the demo should have churned customers"


def test_marts_agree_with_each_other(built):
    root, _, _, _, _ = built
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        mismatches = con.execute(
            """select count(*) from marts.kpi_store_month k
               join (select store_code, month_end, count(*) n, sum(revenue) revenue, sum(visits) visits
                     from marts.fct_customer_month group by all) f using (store_code, month_end)
               where k.on_file <> f.n or k.revenue <> f.revenue or k.visits <> f.visits"""
        ).fetchone()[0]
        stores = {r[0] for r in con.execute("select store_code from marts.dim_stores").fetchall()}
    assert mismatches == 0
    assert len(stores) == STORES


def test_pages_exist_for_the_group_and_every_store(built):
    root, _, _, _, _ = built
    index = (root / "dashboards" / "index.html").read_text(encoding="utf-8")
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        stores = [r[0] for r in con.execute("select store_code from marts.dim_stores order by 1").fetchall()]
    for store in stores:
        assert store in index
        assert list((root / "dashboards").rglob(f"{store}.html")), store


def test_league_table_shows_each_stores_latest_kpis(built):
    root, _, _, _, _ = built
    index = (root / "dashboards" / "index.html").read_text(encoding="utf-8")
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        latest = con.execute(
            """select store_code, on_file, churned, churn_rate, revenue, paid_visits, per_ticket_value
               from marts.kpi_store_month
               where month_end = (select max(month_end) from marts.kpi_store_month)"""
        ).fetchall()
    assert len(latest) == STORES
    for store, on_file, churned, churn_rate, revenue, paid_visits, per_ticket in latest:
        row = re.search(rf'<tr data-store="{store}">(.*?)</tr>', index, re.S).group(1)
        cell = dict(re.findall(r'data-col="(\w+)"[^>]*>([^<]*)<', row))
        assert cell["on_file"] == f"{on_file:,}"
        assert cell["churned"] == f"{churned:,}"
        assert cell["churn_rate"] == f"{churn_rate * 100:.1f}%"
        assert f'data-col="churn_rate" title="{churned}/{on_file}"' in row
        if paid_visits:
            assert cell["per_ticket_value"] == f"¥{per_ticket:,.2f}"


def test_rerun_changes_nothing(built):
    root, landing, _, second, kpis_after_first = built
    assert second.returncode == 0, second.stdout + second.stderr
    assert _kpis(root / "warehouse.duckdb") == kpis_after_first
    assert "loaded       0 files, 0 rows" in second.stdout
    # with nothing new, the re-run covers only the last drop date
    last = max(p.name for p in landing.glob("dms/*/*"))
    assert f"run covers drop dates {last} .. {last}" in second.stdout
