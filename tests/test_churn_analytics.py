"""The churn analytics marts end to end (SPEC sections 2, 6, 7, 8): group-level
status, group transfers, hidden churn, lost value, breakdowns, and the
analyst's one-query answers of docs/analyst_queries.md, each compared with the
independent plain-Python computation of tests/independent.py on the landing
that the shared `demo_build` fixture generates and runs."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from independent import REMAINING_EXPECTED_YEARS, Landing, add_months, month_end

ANALYST_QUERIES = Path(__file__).resolve().parent.parent / "docs" / "analyst_queries.md"


@pytest.fixture(scope="module")
def model(demo_build):
    return Landing(demo_build.landing)


@pytest.fixture(scope="module")
def con(demo_build):
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as connection:
        yield connection


def _analyst_query(name: str) -> str:
    """The SQL block of docs/analyst_queries.md that starts with `-- query: <name>`."""
    text = ANALYST_QUERIES.read_text(encoding="utf-8")
    match = re.search(rf"```sql\n-- query: {name}\n(.*?)```", text, re.S)
    assert match, f"no query {name} in {ANALYST_QUERIES}"
    return match.group(1)


def _as_float(value) -> float:
    return float(value) if value is not None else None


def test_group_status_counts_a_vehicle_once_at_its_last_visit_anywhere(model, con):
    as_of = model.data_date
    counts = Counter()
    for vin in {vin for _, vin in model.customers}:
        last, store = model.group_last_visit(vin, as_of)
        counts["on_file"] += 1
        counts[model.status(store, vin, last, as_of)] += 1
    got = con.execute(
        """select on_file, active, at_risk, churned from marts.kpi_scope_month
           where scope_level = 'group' and month_end = ?""",
        [month_end(as_of)],
    ).fetchone()
    assert got == (counts["on_file"], counts["active"], counts["at_risk"], counts["churned"])
    stores_on_file = con.execute(
        "select sum(on_file) from marts.kpi_store_month where month_end = ?", [month_end(as_of)]
    ).fetchone()[0]
    # the demo moves some vehicles between sibling stores: the group counts them once
    assert counts["on_file"] < stores_on_file


def test_group_transfers_and_losses_to_competitors_per_store(model, con):
    as_of = model.data_date
    expected = defaultdict(lambda: [0, 0])
    for store, vin in model.customers:
        if model.store_status(store, vin, as_of) != "churned":
            continue
        if model.is_group_transfer(store, vin, as_of):
            expected[store][0] += 1
        elif model.loss(store, vin, as_of)[0] == "competitor":
            expected[store][1] += 1
    got = con.execute(
        """select store_code, churned_group_transfers, churned_to_competitors from marts.kpi_store_month
           where month_end = ? order by store_code""",
        [month_end(as_of)],
    ).fetchall()
    assert got == [(s, *expected[s]) for s, _, _ in got]
    assert sum(e[0] for e in expected.values()) > 0, "the demo should move vehicles between stores"


def test_breakdowns_add_up_to_the_scope_and_match_the_vehicle_models(model, con):
    as_of = model.data_date
    mismatches = con.execute(
        """select count(*) from (
               select scope_level, scope_code, month_end, dimension, sum(on_file) as n, sum(churned) as churned
               from marts.kpi_churn_breakdown_month group by all
           ) b
           join marts.kpi_scope_month k using (scope_level, scope_code, month_end)
           where b.n <> k.on_file or b.churned <> k.churned"""
    ).fetchone()[0]
    assert mismatches == 0
    expected = Counter()
    for store, vin in model.customers:
        expected[(store, model.vehicle(store, vin).get("model") or "unknown",
                  model.store_status(store, vin, as_of))] += 1
    got = con.execute(
        """select scope_code, dimension_value, active, at_risk, churned from marts.kpi_churn_breakdown_month
           where scope_level = 'store' and dimension = 'vehicle_model' and month_end = ?""",
        [month_end(as_of)],
    ).fetchall()
    assert {(s, m): (a, r, c) for s, m, a, r, c in got} == {
        (s, m): (expected[(s, m, "active")], expected[(s, m, "at_risk")], expected[(s, m, "churned")])
        for s, m, _ in expected
    }


def test_value_lost_last_quarter(model, con):
    got = con.execute(_analyst_query("value_lost_last_quarter")).fetchall()
    quarter_start = add_months(model.data_date.replace(day=1, month=(model.data_date.month - 1) // 3 * 3 + 1), -3)
    months = [month_end(add_months(quarter_start, i)) for i in range(3)]
    lost = defaultdict(lambda: [0, Decimal("0")])
    for store, vin in model.customers:
        for month in months:
            spend = model.newly_churned_value(store, vin, month)
            if spend is not None:
                lost[store][0] += 1
                lost[store][1] += spend
    expected = sorted(
        ((s, n, spend, spend * REMAINING_EXPECTED_YEARS) for s, (n, spend) in lost.items()),
        key=lambda r: (-r[3], r[0]),
    )
    assert [(s, n, spend, value) for s, n, spend, value in got if n] == expected
    assert expected, "some customers should churn in the demo's last quarter"


def test_share_lost_to_independent_shops(model, con):
    got = con.execute(_analyst_query("share_lost_to_independent_shops")).fetchall()
    as_of = model.data_date
    counts = defaultdict(lambda: [0, 0])
    for store, vin in model.customers:
        if model.store_status(store, vin, as_of) != "churned" or model.is_group_transfer(store, vin, as_of):
            continue
        loss_type, serviced = model.loss(store, vin, as_of)
        if loss_type == "competitor":
            counts[store][1] += 1
            counts[store][0] += serviced == "independent_shop"
    assert [(s, a, b) for s, a, b, _ in got] == [(s, *counts[s]) for s in sorted(counts)]
    for _, a, b, share in got:
        assert share == pytest.approx(a / b)


def test_models_churning_within_two_years(model, con):
    got = con.execute(_analyst_query("models_churning_within_two_years")).fetchall()
    as_of = model.data_date
    counts = defaultdict(lambda: [0, 0])
    for store, vin in model.customers:
        v = model.vehicle(store, vin)
        bought = dt.date.fromisoformat(v["purchase_date"].replace("/", "-")) if v.get("purchase_date") else None
        sold_here = v.get("sold_by_store", "").strip().upper() in ("Y", "是", "1", "TRUE")
        if not (sold_here and bought and add_months(as_of, -24) < bought <= as_of):
            continue
        counts[v["model"]][0] += 1
        counts[v["model"]][1] += model.store_status(store, vin, as_of) == "churned"
    assert {m: (n, c) for m, n, c, _ in got} == {m: tuple(nc) for m, nc in counts.items()}
    rates = [r[3] for r in got]
    assert rates == sorted(rates, reverse=True)


def test_hidden_churn_today(model, con):
    got = con.execute(_analyst_query("hidden_churn_today")).fetchall()
    as_of = model.data_date
    hidden = Counter(store for store, vin in model.customers if model.is_hidden_churn(store, vin, as_of))
    assert [(s, h) for s, h, _, _ in got] == [(s, hidden[s]) for s, _, _, _ in got]
    assert sum(hidden.values()) > 0, "the demo should have hidden churn"


def test_call_list_ranks_the_stores_customers_to_phone(model, con):
    as_of = model.data_date
    rows = con.execute(
        "select store_code, call_rank, vin, call_reason, annual_spend, phone_masked from marts.call_list"
    ).fetchall()
    by_store = defaultdict(list)
    for store, rank, vin, reason, spend, phone in rows:
        by_store[store].append((rank, spend))
        status = model.store_status(store, vin, as_of)
        if reason == "hidden_churn":
            assert model.is_hidden_churn(store, vin, as_of)
        else:
            assert status == reason
        assert not model.is_group_transfer(store, vin, as_of)
        assert phone is None or "****" in phone
    for ranked in by_store.values():
        assert [r for r, _ in sorted(ranked)] == list(range(1, len(ranked) + 1))
        spends = [s for _, s in sorted(ranked)]
        assert spends == sorted(spends, reverse=True)
    expected = {
        (store, vin) for store, vin in model.customers
        if (model.is_hidden_churn(store, vin, as_of) or model.store_status(store, vin, as_of) == "at_risk")
        and not model.is_group_transfer(store, vin, as_of) and model.loss(store, vin, as_of)[0] != "natural"
    }
    listed = {(s, v) for s, _, v, reason, _, _ in rows if reason != "churned"}
    assert listed == expected
