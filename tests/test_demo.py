"""The demo landing generator (sources/demo.py), checked by reading the CSV
files it writes with the csv module alone, independently of the loader."""

from __future__ import annotations

import argparse
import codecs
import csv
import hashlib
import re
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from independent import Landing
from sources import contract
from sources.demo import (
    DEFAULT_DAILY_DAYS,
    DEMO_MARKER,
    add_arguments,
    generate_landing,
    is_demo_landing,
    run_from_args,
)
from sources.demo_campaigns import TRUTH_FILE

# The simulation's properties are checked on the all-daily shape, where every
# version of a row is its own drop (daily_days covers the whole window).
SMALL = dict(seed=7, end_date=date(2026, 11, 20), stores=3, years=1, vehicles_per_store=150, daily_days=366)
# The demo's own shape: a history extract per store, then daily drops.
EXTRACT = dict(seed=5, end_date=date(2026, 11, 20), stores=3, years=3, vehicles_per_store=80)
CUT = date(2026, 11, 20) - timedelta(days=DEFAULT_DAILY_DAYS)
STORES = ("S001", "S002", "S003")
GB_STORE, BOM_STORE = "S003", "S002"  # the last store and the second
FIRST, LAST = date(2025, 11, 21), date(2026, 11, 20)
VIN_RE = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
ZH_TO_CODE = {k: {zh: code for code, zh in m.items()} for k, m in contract.ENUMERATIONS.items()}


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("demo") / "landing"
    summary = generate_landing(out, **SMALL)
    return out, summary


@pytest.fixture(scope="module")
def extract_tree(tmp_path_factory) -> tuple[Path, object]:
    out = tmp_path_factory.mktemp("demo_extract") / "landing"
    return out, generate_landing(out, **EXTRACT)


@pytest.fixture(scope="module")
def daily_twin(tmp_path_factory) -> Path:
    """The same simulation as extract_tree, every day its own drop."""
    out = tmp_path_factory.mktemp("demo_daily") / "landing"
    generate_landing(out, **EXTRACT, daily_days=3 * 366)
    return out


def tree_hashes(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def decode(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def read_rows(root: Path, table: contract.LandingTable, store: str) -> list[dict]:
    """Every row a store delivered for a table, with English column names and
    English enumeration codes, plus `_drop` (the folder's date)."""
    out = []
    by_label = {c.name: c for c in table.columns} | {c.zh: c for c in table.columns}
    store_dir = root / table.source / store
    if not store_dir.is_dir():  # a store that runs no campaign sends no crm drop
        return out
    for day_dir in sorted(store_dir.iterdir()):
        rows = list(csv.reader(decode(day_dir / table.file_name).splitlines()))
        cols = [by_label[h] for h in rows[0]]
        for r in rows[1:]:
            rec = {"_drop": day_dir.name}
            for c, v in zip(cols, r):
                if v and c.kind == contract.ENUM:
                    v = ZH_TO_CODE[c.enum].get(v, v)
                elif v and c.kind == contract.ENUM_LIST:
                    v = ";".join(ZH_TO_CODE[c.enum].get(x, x) for x in v.split(";"))
                elif v and c.kind == contract.DATE:
                    v = v.replace("/", "-")
                elif v and c.kind == contract.FLAG:
                    v = v.upper() in contract.FLAG_TRUE
                rec[c.name] = v
            out.append(rec)
    return out


def all_rows(root: Path, table: contract.LandingTable) -> list[dict]:
    return [r for s in STORES for r in read_rows(root, table, s)]


def latest(rows: list[dict], key: tuple[str, ...]) -> dict[tuple, dict]:
    best: dict[tuple, dict] = {}
    for r in rows:
        k = tuple(r[c] for c in key)
        if k not in best or (r["updated_at"], r["_drop"]) >= (best[k]["updated_at"], best[k]["_drop"]):
            best[k] = r
    return best


def cents(text: str) -> int:
    whole, _, frac = text.partition(".")
    assert len(frac) == 2, text
    return int(whole) * 100 + int(frac)


# ------------------------------------------------------------------ the tree


def test_deterministic(extract_tree, tmp_path):
    root, summary = extract_tree
    again = tmp_path / "again"
    s2 = generate_landing(again, **EXTRACT)
    assert tree_hashes(again) == tree_hashes(root)
    assert s2.rows == summary.rows and s2.files_written == summary.files_written
    other = tmp_path / "other"
    generate_landing(other, **{**EXTRACT, "seed": 8})
    assert tree_hashes(other) != tree_hashes(root)


def test_workers_do_not_change_the_output(extract_tree, tmp_path):
    root, _ = extract_tree
    out = tmp_path / "parallel"
    generate_landing(out, **EXTRACT, workers=2)
    assert tree_hashes(out) == tree_hashes(root)


# ------------------------------------------------------- history extracts


def test_first_drop_is_a_history_extract_then_daily_drops(extract_tree):
    root, summary = extract_tree
    assert summary.first_drop == CUT and summary.last_drop == EXTRACT["end_date"]
    assert summary.history_start == date(2023, 11, 21)
    days = [(CUT + timedelta(days=i)).isoformat() for i in range(DEFAULT_DAILY_DAYS + 1)]
    for source in ("dms", "insurance", "survey"):
        for store in STORES:
            assert sorted(p.name for p in (root / source / store).iterdir()) == days
    for store in STORES:
        ros = read_rows(root, contract.REPAIR_ORDERS, store)
        history = [r for r in ros if r["_drop"] == CUT.isoformat()]
        opened = sorted(r["opened_at"][:10] for r in history)
        # years of repair orders in the first drop, from the history's first month
        assert opened[0] < "2024-01-01" and opened[-1] >= "2026-10-01", (store, opened[0], opened[-1])
        assert len(history) > 0.9 * len(ros)
        # the daily drops after it are deltas of their own day
        assert all(r["updated_at"][:10] == r["_drop"] for r in ros if r["_drop"] > CUT.isoformat())
        assert any(r["_drop"] > CUT.isoformat() for r in ros)


def test_extract_holds_one_version_per_key_none_after_its_date(extract_tree):
    root, _ = extract_tree
    for t in contract.DROP_TABLES:
        for store in STORES:
            rows = read_rows(root, t, store)
            for drop in {r["_drop"] for r in rows}:
                in_drop = [r for r in rows if r["_drop"] == drop]
                assert len({tuple(r[c] for c in t.key) for r in in_drop}) == len(in_drop), (t.name, store, drop)
            for r in rows:
                assert r["updated_at"][:10] <= r["_drop"], (t.name, r)
                for c in t.columns:
                    if c.not_after_drop and r.get(c.name):
                        assert r[c.name][:10] <= r["_drop"], (t.name, c.name, r)


def test_extract_is_the_latest_version_of_the_daily_drops_up_to_its_date(extract_tree, daily_twin):
    """The same simulation written every day as its own drop: the extract
    holds, per key, the latest of those versions up to the cut, and the
    daily drops after the cut are the same files."""
    root, _ = extract_tree
    strip = lambda r: {k: v for k, v in r.items() if k != "_drop"}  # noqa: E731
    for t in contract.DROP_TABLES:
        for store in STORES:
            daily = read_rows(daily_twin, t, store)
            upto = latest([r for r in daily if r["_drop"] <= CUT.isoformat()], t.key)
            extract = [r for r in read_rows(root, t, store) if r["_drop"] == CUT.isoformat()]
            assert {k: strip(r) for k, r in upto.items()} == {tuple(r[c] for c in t.key): strip(r) for r in extract}
    for path in sorted(root.glob("*/*/*/*.csv")):
        if path.parent.name > CUT.isoformat():
            assert path.read_bytes() == (daily_twin / path.relative_to(root)).read_bytes(), path


def test_extract_landing_means_what_the_daily_landing_means(extract_tree, daily_twin):
    """tests/independent.py reads both shapes of one simulation to the same
    vehicles, owners, visits, money and surveys: latest version per key is
    what both mean, so every mart figure computed from them is the same."""
    root, _ = extract_tree
    a, b = Landing(root), Landing(daily_twin)
    drop_line = lambda rows: {k: {c: v for c, v in r.items() if c != "_line"} for k, r in rows.items()}  # noqa: E731
    assert a.data_date == b.data_date == EXTRACT["end_date"]
    assert drop_line(a.vehicles) == drop_line(b.vehicles) and a.vehicles
    assert drop_line(a.owners) == drop_line(b.owners) and a.owners
    assert a.customers == b.customers and sum(len(c.days) for c in a.customers.values()) > 1000
    assert a.surveys == b.surveys
    statuses = lambda m: {(s, v, d): m.store_status(s, v, d)  # noqa: E731
                          for d in (date(2024, 11, 30), date(2025, 11, 30), EXTRACT["end_date"])
                          for s, v in m.customers}
    assert statuses(a) == statuses(b) and "churned" in statuses(a).values()


def test_every_store_sends_dms_insurance_and_survey_every_day_and_crm_on_its_days(tree):
    root, summary = tree
    assert summary.first_drop == FIRST and summary.last_drop == LAST
    days = [(FIRST + timedelta(days=i)).isoformat() for i in range((LAST - FIRST).days + 1)]
    n_files = 1
    for source in ("dms", "insurance", "survey"):
        tables = [t for t in contract.DROP_TABLES if t.source == source]
        assert sorted(p.name for p in (root / source).iterdir()) == list(STORES)
        for store in STORES:
            assert sorted(p.name for p in (root / source / store).iterdir()) == days
            for day in days:
                names = sorted(p.name for p in (root / source / store / day).iterdir())
                assert names == sorted(t.file_name for t in tables)
                n_files += len(names)
    # crm: a folder only on a day with campaign rows, holding both files
    crm_files = sorted(t.file_name for t in contract.DROP_TABLES if t.source == "crm")
    crm_folders = sorted(root.glob("crm/*/*"))
    assert crm_folders
    for folder in crm_folders:
        assert sorted(p.name for p in folder.iterdir()) == crm_files
        assert sum(len(decode(folder / name).splitlines()) - 1 for name in crm_files) > 0, folder
        n_files += len(crm_files)
    assert summary.files_written == n_files
    assert sorted(p.name for p in root.iterdir()) == sorted(
        [DEMO_MARKER, TRUTH_FILE, "crm", "dms", "insurance", "reference", "survey"])
    assert is_demo_landing(root)


def test_reference_stores(tree):
    root, _ = tree
    raw = (root / "reference" / "stores.csv").read_bytes()
    assert not raw.startswith(codecs.BOM_UTF8)
    rows = list(csv.DictReader(raw.decode("utf-8").splitlines()))
    assert list(rows[0]) == contract.STORES.column_names
    assert [r["store_code"] for r in rows] == list(STORES)
    brands = [r["brand"] for r in rows]
    assert brands[0] == brands[2] != brands[1]  # S001 and S003 are siblings
    for r in rows:
        date.fromisoformat(r["opened_on"])
        assert r["region"] and r["city"] and r["province"]


def test_headers_and_encodings(tree):
    root, _ = tree
    for t in contract.DROP_TABLES:
        for store in STORES:
            path = next((root / t.source / store).iterdir()) / t.file_name
            raw = path.read_bytes()
            if store == GB_STORE:
                with pytest.raises(UnicodeDecodeError):
                    raw.decode("utf-8")
                header = next(csv.reader([raw.decode("gb18030").splitlines()[0]]))
                assert header == [c.zh for c in t.columns]
                assert raw.endswith(b"\r\n")
            else:
                assert raw.startswith(codecs.BOM_UTF8) == (store == BOM_STORE)
                header = next(csv.reader([raw.decode("utf-8-sig").splitlines()[0]]))
                assert header == t.column_names


def test_gb18030_store_uses_chinese_labels_flags_and_slash_dates(tree):
    root, _ = tree
    day = next(iter(sorted((root / "dms" / GB_STORE).iterdir())))
    text = (day / "vehicles.csv").read_bytes().decode("gb18030")
    rows = list(csv.reader(text.splitlines()))[1:]
    assert rows, "the first drop holds the initial extract"
    flags = {r[8] for r in rows}
    assert flags <= {"是", "否"} and flags
    assert all(re.fullmatch(r"\d{4}/\d{2}/\d{2}", r[7]) for r in rows)  # purchase_date
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", r[9]) for r in rows)  # updated_at
    ros = read_rows(root, contract.REPAIR_ORDERS, GB_STORE)
    text = "".join(decode(p) for p in sorted((root / "dms" / GB_STORE).glob("*/repair_orders.csv"))[:200])
    assert "已结算" in text and "closed" not in text
    assert {r["service_type"] for r in ros} <= set(contract.ENUMERATIONS["service_type"])


def test_updated_at_falls_on_the_drop_date(tree):
    root, _ = tree
    for t in contract.DROP_TABLES:
        for r in all_rows(root, t):
            assert r["updated_at"][:10] == r["_drop"], (t.name, r)
            datetime.strptime(r["updated_at"], "%Y-%m-%d %H:%M:%S")
            for c in t.columns:
                if c.not_after_drop and r.get(c.name):
                    assert r[c.name][:10] <= r["_drop"], (t.name, c.name, r)


def test_vins_are_valid(tree):
    root, _ = tree
    for t in (contract.VEHICLES, contract.REPAIR_ORDERS, contract.POLICIES, contract.CLAIMS, contract.SURVEY_RESPONSES):
        for r in all_rows(root, t):
            assert VIN_RE.match(r["vin"]), r["vin"]
    vehicles = all_rows(root, contract.VEHICLES)
    assert len({r["vin"] for r in vehicles}) > 300


def test_customers_and_vehicles(tree):
    root, _ = tree
    customers = all_rows(root, contract.CUSTOMERS)
    assert {r["customer_type"] for r in customers} == {"individual", "corporate", "fleet"}
    for r in customers:
        assert re.fullmatch(r"1[358]\d{9}", r["phone"]), r["phone"]
        assert r["created_at"] <= r["updated_at"]
    changed = [k for k, n in count_keys(customers, ("store_code", "customer_id")).items() if n > 1]
    assert changed, "some customer changes (phone, district) are delivered again"
    vehicles = all_rows(root, contract.VEHICLES)
    keys = {(r["store_code"], r["customer_id"]) for r in customers}
    assert all((r["store_code"], r["customer_id"]) in keys for r in vehicles)
    by_owner = count_keys(vehicles, ("store_code", "customer_id"))
    assert max(by_owner.values()) >= 2, "some owners have two cars"
    owners = defaultdict(set)
    for r in vehicles:
        owners[(r["store_code"], r["vin"])].add(r["customer_id"])
    assert any(len(v) > 1 for v in owners.values()), "some vehicle changes hands"
    assert {r["sold_by_store"] for r in vehicles} == {True, False}


def count_keys(rows, key):
    n: dict[tuple, int] = defaultdict(int)
    for r in rows:
        n[tuple(r[c] for c in key)] += 1
    return n


# ------------------------------------------------------------- repair orders


def test_totals_and_lines_reconcile_to_the_cent(tree):
    root, _ = tree
    lines = defaultdict(lambda: [0, 0, 0])  # (store, ro, updated_at) -> labor, parts, n
    for ln in all_rows(root, contract.REPAIR_ORDER_LINES):
        k = (ln["store_code"], ln["ro_number"], ln["updated_at"])
        lines[k][0 if ln["line_type"] == "labor" else 1] += cents(ln["amount"])
        lines[k][2] += 1
        if ln["line_type"] != "labor":
            assert cents(ln["cost"]) < cents(ln["amount"])
    ros = all_rows(root, contract.REPAIR_ORDERS)
    assert ros
    for r in ros:
        labor, parts = cents(r["labor_amount"]), cents(r["parts_amount"])
        total = labor + parts + cents(r["other_amount"]) - cents(r["discount_amount"])
        assert cents(r["total_amount"]) == total, r
        assert 0 <= cents(r["parts_cost"]) <= parts
        got = lines[(r["store_code"], r["ro_number"], r["updated_at"])]
        assert got[2] > 0, "lines travel with their RO in the same drop"
        assert (got[0], got[1]) == (labor, parts), r
    closed = [r for r in ros if r["status"] == "closed" and r["payer"] == "customer"]
    margin = 1 - sum(cents(r["parts_cost"]) for r in closed) / sum(cents(r["parts_amount"]) for r in closed)
    assert 0.2 < margin < 0.45


def test_ro_numbers_and_life_cycle(tree):
    root, _ = tree
    ros = all_rows(root, contract.REPAIR_ORDERS)
    versions = defaultdict(list)
    for r in ros:
        assert r["ro_number"].startswith("RO" + r["store_code"])
        versions[(r["store_code"], r["ro_number"])].append(r)
    open_then_closed = cancelled = 0
    for vs in versions.values():
        vs.sort(key=lambda r: r["updated_at"])
        assert len({v["_drop"] for v in vs}) == len(vs)  # one version per drop
        assert len({v["opened_at"] for v in vs}) == 1
        statuses = [v["status"] for v in vs]
        if statuses == ["open", "closed"]:
            open_then_closed += 1
            assert vs[0]["closed_at"] == "" and vs[1]["closed_at"][:10] == vs[1]["_drop"] > vs[0]["_drop"]
        elif statuses == ["open", "cancelled"]:
            cancelled += 1
        else:
            assert statuses in (["closed"], ["open"]), statuses
            if statuses == ["closed"]:
                assert vs[0]["closed_at"][:10] == vs[0]["opened_at"][:10]
    assert open_then_closed >= 10
    assert cancelled >= 1
    assert {r["service_type"] for r in ros} == set(contract.ENUMERATIONS["service_type"])
    assert {r["payer"] for r in ros} == set(contract.ENUMERATIONS["payer"])


def test_mileage_grows_with_time(tree):
    root, _ = tree
    seen = defaultdict(list)
    for r in all_rows(root, contract.REPAIR_ORDERS):
        if r["mileage_km"]:
            seen[(r["store_code"], r["vin"])].append((r["opened_at"], int(r["mileage_km"])))
    for visits in seen.values():
        visits.sort()
        kms = [km for _, km in visits]
        assert kms == sorted(kms)


def test_warranty_work_only_in_the_first_three_years(tree):
    root, _ = tree
    purchase = {r["vin"]: date.fromisoformat(r["purchase_date"]) for r in all_rows(root, contract.VEHICLES)}
    warranty = [r for r in all_rows(root, contract.REPAIR_ORDERS) if r["service_type"] == "warranty"]
    assert warranty
    for r in warranty:
        p = purchase[r["vin"]]
        opened = date.fromisoformat(r["opened_at"][:10])
        three_years = p.replace(year=p.year + 3, day=28 if (p.month, p.day) == (2, 29) else p.day)
        assert p <= opened < three_years, r
        assert r["payer"] == "warranty"


def test_a_vin_moves_to_a_sibling_store(tree):
    root, _ = tree
    stores_by_vin = defaultdict(set)
    for r in all_rows(root, contract.REPAIR_ORDERS):
        if r["status"] == "closed" and r["payer"] != "internal":
            stores_by_vin[r["vin"]].add(r["store_code"])
    movers = [v for v, s in stores_by_vin.items() if len(s) > 1]
    assert movers
    assert all(stores_by_vin[v] == {"S001", "S003"} for v in movers)  # same brand only
    cust = {(r["store_code"], r["vin"]): r["customer_id"] for r in all_rows(root, contract.VEHICLES)}
    v = movers[0]
    assert ("S001", v) in cust and ("S003", v) in cust


# ---------------------------------------------------------------- insurance


def test_policies_and_claims(tree):
    root, _ = tree
    policies = all_rows(root, contract.POLICIES)
    assert {r["policy_type"] for r in policies} == {"compulsory", "commercial"}
    for r in policies:
        start, end = date.fromisoformat(r["start_date"]), date.fromisoformat(r["end_date"])
        assert 360 <= (end - start).days <= 366
    flags = {(r["sold_by_store"], r["is_renewal"]) for r in policies}
    assert (True, True) in flags  # renewed at the store
    assert any(not sold for sold, _ in flags)  # renewed elsewhere
    claims = all_rows(root, contract.CLAIMS)
    by_no = defaultdict(list)
    for c in claims:
        by_no[c["claim_no"]].append(c)
    assert any([c["status"] for c in sorted(v, key=lambda c: c["updated_at"])] == ["open", "settled"] for v in by_no.values())
    assert any(c["assigned_store_code"] in ("",) or c["assigned_store_code"].startswith("X") for c in claims)
    body = [r for r in all_rows(root, contract.REPAIR_ORDERS) if r["payer"] == "insurance"]
    assert body and all(r["service_type"] == "bodywork" and r["claim_no"] in by_no for r in body)
    for r in body:
        assigned = {c["assigned_store_code"] for c in by_no[r["claim_no"]]}
        assert assigned == {r["store_code"]}


# ------------------------------------------------------------------ surveys


def test_survey_responses(tree):
    root, _ = tree
    responses = all_rows(root, contract.SURVEY_RESPONSES)
    assert len(responses) > 30
    reached = [r for r in responses if r["reached"]]
    unreached = [r for r in responses if not r["reached"]]
    assert unreached and 0.5 < len(reached) / len(responses) < 0.8
    assert all(not r["reasons"] and not r["serviced_at"] for r in unreached)
    reasons = {x for r in reached for x in r["reasons"].split(";") if x}
    assert {"price", "vehicle_sold"} <= reasons <= set(contract.ENUMERATIONS["reason"])
    assert any(r["win_back_booked"] for r in reached)
    # A customer is called only after six months without a visit.
    visits = defaultdict(list)
    for r in all_rows(root, contract.REPAIR_ORDERS):
        if r["status"] == "closed" and r["payer"] != "internal":
            visits[(r["store_code"], r["vin"])].append(r["opened_at"][:10])
    for r in responses:
        before = [d for d in visits[(r["store_code"], r["vin"])] if d <= r["surveyed_at"][:10]]
        if before:
            gap = date.fromisoformat(r["surveyed_at"][:10]) - date.fromisoformat(max(before))
            assert gap.days >= 180, r
    for r in reached:
        if "vehicle_sold" in r["reasons"]:
            assert r["current_mileage_km"] == ""
    # Some owners who booked a visit come back within 90 days (win-back).
    def back_within_90(r):
        day = date.fromisoformat(r["surveyed_at"][:10])
        return any(day < date.fromisoformat(d) <= day + timedelta(days=90) for d in visits[(r["store_code"], r["vin"])])

    booked = [r for r in reached if r["win_back_booked"]]
    assert sum(map(back_within_90, booked)) > len(booked) / 3


# ---------------------------------------------------------------- interface


def test_cli_and_refusal(tmp_path, capsys):
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    out = tmp_path / "cli"
    args = parser.parse_args(["--out", str(out), "--stores", "2", "--years", "1", "--vehicles-per-store", "20",
                              "--end-date", "2025-03-01"])
    assert run_from_args(args) == 0
    said = capsys.readouterr().out
    assert "2 stores" in said and "extract per store dated 2025-01-30 (everything since 2024-03-02)" in said
    assert "then 30 daily drops to 2025-03-01" in said
    assert (out / "dms" / "S002" / "2025-03-01" / "repair_orders.csv").is_file()
    # An earlier demo tree is replaced; other content is refused.
    assert run_from_args(args) == 0
    (out / "notes.txt").write_text("mine")
    assert run_from_args(args) == 2
    assert (out / "notes.txt").read_text() == "mine"
