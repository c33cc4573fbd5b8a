"""`aftersales run` on a generated landing, through the real CLI: marts and
pages exist and agree, and key figures equal an independent computation made
here in plain Python straight from the landing CSVs (SPEC sections 3, 5, 6)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
from conftest import E2E_STORES
from independent import Landing

STORES = E2E_STORES


def _kpis(warehouse: Path) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select * from marts.kpi_store_month order by store_code, month_end").fetchall()


def _independent_figures(landing: Path):
    """Visits, paid visits and revenue per store-month from the independent model."""
    model = Landing(landing)
    visits, paid, revenue = defaultdict(int), defaultdict(int), defaultdict(Decimal)
    for (store, _), customer in model.customers.items():
        for day, v in customer.days.items():
            key = (store, (day.year, day.month))
            visits[key] += 1
            paid[key] += v.paid
            revenue[key] += v.revenue
    return model, visits, paid, revenue


def test_run_succeeds_and_says_where_things_are(demo_build):
    root, first = demo_build.root, demo_build.first_run
    assert first.returncode == 0, first.stdout + first.stderr
    assert "aftersales run: OK" in first.stdout
    assert str(root / "warehouse.duckdb") in first.stdout
    # `make run` ends with the group page to open
    assert first.stdout.rstrip().splitlines()[-1].split() == ["group", "page", str(root / "dashboards" / "index.html")]


def test_visits_and_revenue_equal_an_independent_computation(demo_build):
    root, landing = demo_build.root, demo_build.landing
    _, visits, paid, revenue = _independent_figures(landing)
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "select store_code, month_end, visits, paid_visits, revenue from marts.kpi_store_month"
        ).fetchall()
    assert len({r[0] for r in rows}) == STORES
    checked = 0
    for store, month_end, n_visits, n_paid, money in rows:
        key = (store, (month_end.year, month_end.month))
        assert n_visits == visits.get(key, 0), key
        assert n_paid == paid.get(key, 0), key
        assert money == revenue.get(key, Decimal("0.00")), key
        checked += n_visits
    assert checked == sum(visits.values()) > 0


def test_churn_status_at_the_last_month_equals_an_independent_computation(demo_build):
    root, landing = demo_build.root, demo_build.landing
    model = Landing(landing)
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        as_of = con.execute("select max(as_of_date) from marts.kpi_store_month").fetchone()[0]
        got = con.execute(
            """select store_code, on_file, active, at_risk, churned from marts.kpi_store_month
               where as_of_date = ? order by store_code""",
            [as_of],
        ).fetchall()
    assert as_of == model.data_date
    expected = defaultdict(lambda: [0, 0, 0, 0])
    for store, vin in model.customers:
        counts = expected[store]
        counts[0] += 1
        counts[1 + ("active", "at_risk", "churned").index(model.store_status(store, vin, as_of))] += 1
    assert got == [(store, *expected[store]) for store in sorted(expected)]
    assert sum(r[4] for r in got) > 0, "the demo should have churned customers"


def test_marts_agree_with_each_other(demo_build):
    root = demo_build.root
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


def test_pages_exist_for_the_group_and_every_store(demo_build):
    root = demo_build.root
    index = (root / "dashboards" / "index.html").read_text(encoding="utf-8")
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        stores = [r[0] for r in con.execute("select store_code from marts.dim_stores order by 1").fetchall()]
    for store in stores:
        assert store in index
        assert list((root / "dashboards").rglob(f"{store}.html")), store


def test_rerun_changes_nothing(demo_build):
    root, landing = demo_build.root, demo_build.landing
    second, kpis_after_first = demo_build.second_run, demo_build.kpis_after_first_run
    assert second.returncode == 0, second.stdout + second.stderr
    assert _kpis(root / "warehouse.duckdb") == kpis_after_first
    assert "loaded       0 files, 0 rows" in second.stdout
    # and, the landing, code and settings being those of the first run, it is skipped
    # (tests/test_unchanged_run.py: what makes a run not skip)
    assert "nothing new  build" in second.stdout and "nothing new" not in demo_build.first_run.stdout
    # with nothing new, the re-run covers only the last drop date
    last = max(p.name for p in landing.glob("dms/*/*"))
    assert f"run covers drop dates {last} .. {last}" in second.stdout
