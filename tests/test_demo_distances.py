"""The demo's cars drive like cars in a Chinese city.

Read back from a generated demo landing with the csv module alone
(`tests/independent.py`), never from the simulation's own numbers: a private
car runs 10,000 to 15,000 km a year (most owners 20 to 60 km a day), company
and fleet cars more; the odometer a car arrives with follows its age; the
visits follow the brand's service interval at that distance.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from pathlib import Path

import pytest

from independent import Landing, english, parse_date, read_landing_csv
from sources.demo import generate_landing

MIN_DAYS = 30  # two readings at least this far apart give a daily distance


@pytest.fixture(scope="module")
def landing(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("demo_distances") / "landing"
    generate_landing(out, seed=7, end_date=dt.date(2026, 11, 20), stores=3, years=3, vehicles_per_store=300)
    return out


@pytest.fixture(scope="module")
def readings(landing) -> dict:
    """Per customer type: {(store, vin): [(visit date, km, purchase date, service type)]}
    over the closed repair orders."""
    facts = Landing(landing)
    by_type: dict[str, dict] = defaultdict(lambda: defaultdict(list))
    for path in sorted(landing.glob("dms/*/*/repair_orders.csv")):
        for r in read_landing_csv(path, "dms_repair_orders"):
            if english("ro_status", r["status"]) != "closed":
                continue
            key = (r["store_code"], r["vin"])
            owner_type = facts.owner(*key).get("customer_type")
            purchase = parse_date(facts.vehicle(*key).get("purchase_date", ""))
            if not owner_type or purchase is None:
                continue
            km = int(r["mileage_km"]) if r["mileage_km"].strip() else None
            by_type[english("customer_type", owner_type)][key].append(
                (parse_date(r["opened_at"]), km, purchase, english("service_type", r["service_type"]))
            )
    return by_type


def daily_km(visits: list) -> float | None:
    read = sorted((d, km) for d, km, _, _ in visits if km is not None)
    if len(read) < 2 or (read[-1][0] - read[0][0]).days < MIN_DAYS:
        return None
    return (read[-1][1] - read[0][1]) / (read[-1][0] - read[0][0]).days


def implied_daily_km(readings, owner_type: str) -> list[float]:
    kms = [daily_km(v) for v in readings[owner_type].values()]
    return [km for km in kms if km is not None]


def test_most_private_owners_drive_20_to_60_km_a_day(readings):
    private = implied_daily_km(readings, "individual")
    assert len(private) > 300
    within = sum(20 <= km <= 60 for km in private) / len(private)
    assert within >= 0.85, f"{within:.0%} of private cars drive 20-60 km a day"
    assert 27 <= statistics.median(private) <= 41  # 10,000-15,000 km a year


def test_company_and_fleet_cars_drive_more(readings):
    private = statistics.median(implied_daily_km(readings, "individual"))
    corporate = statistics.median(implied_daily_km(readings, "corporate"))
    fleet = statistics.median(implied_daily_km(readings, "fleet"))
    assert private < corporate < fleet, (private, corporate, fleet)
    assert fleet <= 220, fleet  # a taxi on two shifts, not a car driven round the clock


def test_the_odometer_follows_the_vehicles_age(readings):
    """No car has more km than its age allows, and the km a car shows per year
    of age is a private car's (the history extract's cars arrive with their
    years of driving on the clock, new cars with a few km)."""
    per_year = []
    for owner_type, cap_per_day in (("individual", 180), ("corporate", 200), ("fleet", 200)):
        for key, visits in readings[owner_type].items():
            for day, km, purchase, _ in visits:
                if km is None:
                    continue
                age_days = (day - purchase).days
                assert km <= 100 + cap_per_day * age_days, (owner_type, key, day, km, purchase)
                if owner_type == "individual" and age_days >= 365:
                    per_year.append(km / (age_days / 365.25))
    assert len(per_year) > 1000
    assert 10_000 <= statistics.median(per_year) <= 15_000, statistics.median(per_year)
    assert statistics.quantiles(per_year, n=20)[-1] <= 25_000  # 95% of readings under 68 km a day


def test_private_cars_come_for_maintenance_every_few_months(readings):
    gaps = []
    for visits in readings["individual"].values():
        days = sorted({d for d, _, _, service in visits if service == "maintenance"})
        gaps += [(b - a).days for a, b in zip(days, days[1:])]
    assert len(gaps) > 1000
    assert 120 <= statistics.median(gaps) <= 240, statistics.median(gaps)  # 4 to 8 months
    assert sum(g < 60 for g in gaps) / len(gaps) <= 0.05  # nobody private every few weeks
