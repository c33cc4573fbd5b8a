"""A small generated landing with crm drops for four campaigns of its first
store, chosen from the landing's own customers (read with the csv module
through tests/independent.py): one with a contact file, a second one that
contacts some of the first one's customers within its window, one without a
contact file (compared with the same strata a year earlier) and one still
running; and the SPEC's campaign-effect rule (section 7, docs/metrics.md
3.26) worked out again from it in plain Python, without the project's SQL.
Used by the campaign-effect tests and the campaigns pages' tests.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import shutil
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from independent import Landing, month_end

from sources.demo import generate_landing
from sources.demo_campaigns import TRUTH_FILE

WIN_BACK_DAYS = 90  # dbt var win_back_window_days
TARGET_STATUSES = ("at_risk", "churned")  # dbt var campaign_target_statuses
Z = 1.96  # dbt var campaign_interval_z
DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Campaign:
    store: str
    campaign_id: str
    kind: str
    start: dt.date
    end: dt.date
    cost: Decimal
    planned: int
    contacts: tuple[tuple[str, dt.date, bool], ...]  # (vin, contact date, reached); empty: no contact file


def month_end_before(d: dt.date) -> dt.date:
    return d.replace(day=1) - DAY


def spend_band(spend: Decimal) -> str:
    if spend == 0:
        return "none"
    for bound, band in ((1000, "under_1k"), (3000, "1k_3k"), (5000, "3k_5k"), (10000, "5k_10k")):
        if spend < bound:
            return band
    return "10k_plus"


def strata_at(model: Landing, store: str, month: dt.date) -> dict[str, tuple[str, str]]:
    """VIN -> (churn status, annual spend band) of the store's customers on file at a month end."""
    as_of = model.as_of(month)
    strata = {}
    for (s, vin), customer in model.customers.items():
        last = customer.last_visit(as_of) if s == store else None
        if last is not None:
            strata[vin] = (model.status(store, vin, last, as_of), spend_band(customer.annual_spend(last)))
    return strata


def visit_days(model: Landing, store: str, vin: str, first: dt.date, last: dt.date) -> list[dt.date]:
    customer = model.customers.get((store, vin))
    return [] if customer is None else [d for d in customer.days if first <= d <= last]


def choose_campaigns(model: Landing) -> list[Campaign]:
    """Four campaigns of the first store, drawn from its own customers."""
    store = sorted(model.store_brand)[0]
    data_date = model.data_date

    def first_of(months_back: int) -> dt.date:
        d = data_date.replace(day=1)
        for _ in range(months_back):
            d = (d - DAY).replace(day=1)
        return d

    def late_customers(start: dt.date) -> list[str]:
        return sorted(v for v, (status, _) in strata_at(model, store, month_end_before(start)).items()
                      if status in TARGET_STATUSES)

    def contacts(vins, start: dt.date, spread: int) -> tuple:
        return tuple((vin, min(start + dt.timedelta(days=(7 * i) % spread), data_date), i % 3 != 2)
                     for i, vin in enumerate(vins))

    call_start = first_of(9)
    late = late_customers(call_start)
    # Every other late customer, plus one active customer and one VIN first seen after the strata date.
    on_file = strata_at(model, store, month_end_before(call_start))
    active = sorted(v for v, (status, _) in on_file.items() if status == "active")
    newcomers = sorted(v for (s, v) in model.customers if s == store and v not in on_file)
    call_vins = late[::2] + active[:1] + newcomers[:1]
    call = Campaign(store, "CALL-1", "invitation", call_start, call_start + dt.timedelta(days=59),
                    Decimal("1800.00"), 5, contacts(call_vins, call_start, 75))
    # A second campaign a month later contacts some of the first one's customers
    # and some it left, within the first one's window.
    sms_start = first_of(8)
    sms_vins = sorted(set(late_customers(sms_start)[1::3]) | set(late[:4:2]))
    sms = Campaign(store, "SMS-2", "discount", sms_start, sms_start + dt.timedelta(days=29),
                   Decimal("600.00"), 3, contacts(sms_vins, sms_start, 30))
    everyone = Campaign(store, "PRICE-3", "discount", first_of(5), first_of(5) + dt.timedelta(days=44),
                        Decimal("3000.00"), 8, ())
    run_start = first_of(1)
    running = Campaign(store, "RUN-4", "pickup_service", run_start, data_date + dt.timedelta(days=20),
                       Decimal("900.00"), 2, contacts(late_customers(run_start)[::3], run_start, 20))
    return [call, sms, everyone, running]


def write_crm_drop(landing: Path, campaigns: list[Campaign], drop: dt.date) -> None:
    for store in {c.store for c in campaigns}:
        folder = landing / "crm" / store / drop.isoformat()
        folder.mkdir(parents=True)
        stamp = f"{drop.isoformat()} 08:00:00"
        with open(folder / "campaigns.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["campaign_id", "store_code", "name", "kind", "target_reason", "owner", "start_date",
                        "end_date", "cost", "expected_returns", "updated_at"])
            for c in campaigns:
                w.writerow([c.campaign_id, store, f"campaign {c.campaign_id}", c.kind, "price", "", c.start,
                            c.end, c.cost, c.planned, stamp])
        with open(folder / "campaign_contacts.csv", "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(["campaign_id", "store_code", "vin", "customer_id", "contacted_at", "channel", "reached",
                        "offer", "updated_at"])
            for c in campaigns:
                for vin, day, reached in c.contacts:
                    w.writerow([c.campaign_id, store, vin, "", f"{day.isoformat()} 10:00:00", "phone",
                                "Y" if reached else "N", "", stamp])


def build_campaign_landing(landing: Path) -> tuple[Landing, list[Campaign]]:
    """Generate the landing (seed 24, 2 stores, 2 years, 150 vehicles a store)
    and write the four campaigns of its first store as a crm drop on the data
    date; the second store runs none. Seed 24: every campaign, the one
    without a contact file too, has contacted customers with a comparison
    to match, and the first two share customers."""
    generate_landing(landing, seed=24, stores=2, years=2, vehicles_per_store=150, daily_days=2)
    # The demo's own campaigns go: these four are the only ones (their planted
    # visits stay, as ordinary repair orders).
    shutil.rmtree(landing / "crm", ignore_errors=True)
    (landing / TRUTH_FILE).unlink(missing_ok=True)
    model = Landing(landing)
    campaigns = choose_campaigns(model)
    write_crm_drop(landing, campaigns, model.data_date)
    return model, campaigns


# ----------------------------------------------------- the rule, independently


@dataclass(frozen=True)
class Sides:
    """Who a campaign treated and whom it is compared with, and over which days."""

    treated: dict[str, dt.date]  # VIN -> contact day
    strata: dict[str, tuple[str, str]]  # the store's customers at the month end before the start
    comparison: dict[str, tuple[str, str]]  # comparison VIN -> stratum (exclusions applied)
    through: dt.date  # the campaign's last measured day
    first: dt.date  # the comparison's first and last measured days
    last: dt.date
    window_end: dt.date


def campaign_sides(model: Landing, campaigns: list[Campaign], campaign: Campaign) -> Sides:
    store, data_date = campaign.store, model.data_date
    window_end = campaign.end + dt.timedelta(days=WIN_BACK_DAYS)
    through = min(window_end, data_date)
    strata = strata_at(model, store, month_end_before(campaign.start))
    if campaign.contacts:
        # Concurrent comparison: on file at the same month end, over the same window.
        treated = {vin: day for vin, day, _ in campaign.contacts}
        shift = 0
    else:
        # Everyone of the target statuses is treated: the same strata a year earlier.
        treated = {vin: campaign.start for vin, (status, _) in strata.items() if status in TARGET_STATUSES}
        shift = 12

    def back(d: dt.date) -> dt.date:
        year, month = divmod(d.year * 12 + d.month - 1 - shift, 12)
        day = min(d.day, month_end(dt.date(year, month + 1, 1)).day)
        return dt.date(year, month + 1, day)

    # Out of the comparison: the campaign's own contacts, and whoever a campaign
    # of the store contacted within the comparison window.
    excluded = {vin for vin, _, _ in campaign.contacts} | {
        vin for c in campaigns if c.store == store for vin, day, _ in c.contacts
        if back(campaign.start) <= day <= back(window_end)}
    comparison = {vin: stratum for vin, stratum in
                  strata_at(model, store, month_end(back(month_end_before(campaign.start)))).items()
                  if vin not in excluded}
    return Sides(treated, strata, comparison, through, back(campaign.start), back(through), window_end)


def independent_effect(model: Landing, campaigns: list[Campaign], campaign: Campaign) -> dict:
    """The columns of marts.kpi_campaign_effect for `campaign`, from the landing."""
    sides = campaign_sides(model, campaigns, campaign)
    store, strata = campaign.store, sides.strata
    by_stratum = defaultdict(lambda: [0, 0, 0, 0])  # contacted, returned, comparison, comparison returned
    returned = returned_after = 0
    for vin, contact_day in sides.treated.items():
        days = visit_days(model, store, vin, campaign.start, sides.through)
        returned += bool(days)
        returned_after += any(d >= contact_day for d in days)
        if vin in strata:
            by_stratum[strata[vin]][0] += 1
            by_stratum[strata[vin]][1] += bool(days)
    for vin, stratum in sides.comparison.items():
        if stratum in by_stratum:
            by_stratum[stratum][2] += 1
            by_stratum[stratum][3] += bool(visit_days(model, store, vin, sides.first, sides.last))
    matched = [(n, r, m, c) for n, r, m, c in by_stratum.values() if m > 0]
    n_total = sum(n for n, _, _, _ in matched)
    expected = sum(n * c / m for n, _, m, c in matched) if matched else None
    variance = sum(n * (r / n) * (1 - r / n) + n * n * (c / m) * (1 - c / m) / m for n, r, m, c in matched)
    uplift = (sum(r for _, r, _, _ in matched) - expected) / n_total if matched else None
    return {
        "contacted": len(sides.treated),
        "returned": returned,
        "returned_after_contact": returned_after,
        "matched_contacted": n_total,
        "unmatched_contacted": len(sides.treated) - n_total,
        "matched_returned": sum(r for _, r, _, _ in matched),
        "comparison_customers": sum(m for _, _, m, _ in matched),
        "expected_returns": expected,
        "uplift": uplift,
        "uplift_ci_low": None if uplift is None else uplift - Z * math.sqrt(variance) / n_total,
        "is_running": sides.window_end > model.data_date,
        "measured_through": sides.through,
    }


def independent_curves(model: Landing, campaigns: list[Campaign], campaign: Campaign) -> dict[str, list[tuple]]:
    """side -> [(day since the side's start, customers, returned by then,
    weighted returned by then)] over the matched strata: a contacted customer
    weighs 1, a comparison customer of stratum s the stratum's contacted over
    its comparison customers."""
    sides = campaign_sides(model, campaigns, campaign)
    store = campaign.store
    contacted = defaultdict(int)
    comparison = defaultdict(int)
    for vin in sides.treated:
        if vin in sides.strata:
            contacted[sides.strata[vin]] += 1
    for stratum in sides.comparison.values():
        comparison[stratum] += 1
    matched = {s for s in contacted if comparison[s] > 0}
    members = {
        "contacted": [(vin, sides.strata[vin], 1.0) for vin in sides.treated if sides.strata.get(vin) in matched],
        "comparison": [(vin, s, contacted[s] / comparison[s]) for vin, s in sides.comparison.items() if s in matched],
    }
    spans = {"contacted": (campaign.start, sides.through), "comparison": (sides.first, sides.last)}
    curves = {}
    for side, people in members.items():
        if not people:
            continue
        first, last = spans[side]
        first_return = {}
        for vin, _, weight in people:
            days = visit_days(model, store, vin, first, last)
            if days:
                first_return[vin] = ((min(days) - first).days, weight)
        curve = []
        for day in range((last - first).days + 1):
            back = [w for d, w in first_return.values() if d <= day]
            curve.append((day, len(people), len(back), sum(back)))
        curves[side] = curve
    return curves
