"""The demo's win-back campaigns (sources/demo_campaigns.py) and the truth it
records (demo_truth.json), checked against the landing it writes, read with
tests/independent.py: what the truth says the campaigns did must be what the
landing's campaign, contact and repair-order files show, computed a second
time in plain Python by the rules of SPEC sections 5 to 7."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import pytest
from independent import Landing, _latest, english, is_true, parse_date, parse_timestamp, read_landing_csv

from sources import demo_catalog
from sources.demo import generate_landing
from sources.demo_campaigns import EFFECT_WINDOW_DAYS, TRUTH_FILE, read_truth
from sources.landing import discover

# Every day its own drop, so each row's folder is its own date; four stores,
# so one (the fourth) runs no campaign.
PARAMS = dict(seed=7, end_date=dt.date(2026, 11, 20), stores=4, years=2, vehicles_per_store=300, daily_days=800)
LAST = PARAMS["end_date"]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo_campaigns") / "landing"
    generate_landing(root, **PARAMS)
    truth = read_truth(root)
    campaigns = _latest(root, "crm/*/*/campaigns.csv", "crm_campaigns", lambda r: (r["store_code"], r["campaign_id"]))
    contacts = _latest(root, "crm/*/*/campaign_contacts.csv", "crm_campaign_contacts",
                       lambda r: (r["store_code"], r["campaign_id"], r["vin"]))
    return root, truth, campaigns, contacts, Landing(root)


def _window(c: dict) -> tuple[dt.date, dt.date]:
    start = dt.date.fromisoformat(c["start_date"])
    end = dt.date.fromisoformat(c["end_date"]) + dt.timedelta(days=EFFECT_WINDOW_DAYS)
    return start, min(end, LAST)


def _returned(landing: Landing, store: str, vin: str, window: tuple[dt.date, dt.date]) -> bool:
    customer = landing.customers.get((store, vin))
    return customer is not None and any(window[0] <= d <= window[1] for d in customer.days)


def test_the_truth_lists_the_landings_campaigns_and_has_every_kind_of_case(demo):
    root, truth, campaigns, contacts, _ = demo
    assert truth["seed"] == PARAMS["seed"] and truth["last_drop_date"] == LAST.isoformat()
    assert truth["effect_window_days"] == EFFECT_WINDOW_DAYS == 90
    listed = {(c["store_code"], c["campaign_id"]): c for c in truth["campaigns"]}
    assert set(listed) == set(campaigns)
    for key, row in campaigns.items():
        c = listed[key]
        assert (english("campaign_kind", row["kind"]), english("reason", row["target_reason"])) == (
            c["kind"], c["target_reason"])
        assert (parse_date(row["start_date"]).isoformat(), parse_date(row["end_date"]).isoformat()) == (
            c["start_date"], c["end_date"])
        assert row["owner"] in demo_catalog.CAMPAIGN_OWNERS  # a role, never a person's name
        assert int(row["expected_returns"]) >= 0 and float(row["cost"]) > 0
    with_contacts = {k for k, c in listed.items() if c["has_contact_file"]}
    assert {k[:2] for k in contacts} <= with_contacts  # no contact of a campaign without a contact file
    cases = [c for c in listed.values() if not c["running"]]
    assert any(not c["has_contact_file"] for c in cases), "a price cut for everyone"
    assert any(c["has_contact_file"] and not c["effective"] for c in cases), "an ineffective campaign"
    assert any(c["effective"] for c in cases), "an effective campaign"
    assert any(c["running"] and c["contacted"] for c in listed.values()), "a running campaign with contacts"
    # a store's campaign windows do not overlap: a return in W is no other campaign's doing
    for store in {k[0] for k in listed}:
        own = sorted((c["start_date"], c["window_end"]) for k, c in listed.items() if k[0] == store)
        assert all(window_end < next_start for (_, window_end), (next_start, _) in zip(own, own[1:])), own
    # every store but the fourth runs campaigns; the fourth sends no crm drop at all
    assert {k[0] for k in listed} == {"S001", "S002", "S003"}
    assert not (root / "crm" / "S004").exists()
    # the truth file sits beside the landing's folders: the loader does not read it
    assert (root / TRUTH_FILE).is_file() and all(f.path.name != TRUTH_FILE for f in discover(root))


def test_campaign_rows_and_contacts_are_in_the_drops_of_their_dates(demo):
    root, truth, _, _, _ = demo
    created = {}
    for path in sorted(root.glob("crm/*/*/campaigns.csv")):
        for r in read_landing_csv(path, "crm_campaigns"):
            assert r["updated_at"][:10] == path.parent.name
            created.setdefault((r["store_code"], r["campaign_id"]), path.parent.name)
    for c in truth["campaigns"]:
        # planned before it starts, delivered in the drop of that day
        assert created[(c["store_code"], c["campaign_id"])] < c["start_date"]
    periods = {(c["store_code"], c["campaign_id"]): (c["start_date"], c["end_date"]) for c in truth["campaigns"]}
    n = 0
    for path in sorted(root.glob("crm/*/*/campaign_contacts.csv")):
        for r in read_landing_csv(path, "crm_campaign_contacts"):
            n += 1
            day = r["contacted_at"][:10]
            assert day == path.parent.name == r["updated_at"][:10]
            start, end = periods[(r["store_code"], r["campaign_id"])]
            assert start <= day <= min(end, LAST.isoformat())
    assert n == sum(c["contacted"] for c in truth["campaigns"]) > 50


def test_the_contacted_were_at_risk_or_churned_and_the_eligible_counts_agree(demo):
    """Statuses at the month end before each start, computed from the
    landing's repair orders (independent.py): every contacted VIN was at_risk
    or churned then, and the truth's eligible counts are the store's."""
    _, truth, _, contacts, landing = demo
    contacted = defaultdict(set)
    for store, campaign_id, vin in contacts:
        contacted[(store, campaign_id)].add(vin)
    by_status = defaultdict(lambda: defaultdict(int))
    for c in truth["campaigns"]:
        as_of = dt.date.fromisoformat(c["status_date"])
        assert as_of == dt.date.fromisoformat(c["start_date"]).replace(day=1) - dt.timedelta(days=1)
        for store, vin in landing.customers:
            if store == c["store_code"]:
                status = landing.store_status(store, vin, as_of)
                if status in ("at_risk", "churned"):
                    by_status[(store, c["campaign_id"])][status] += 1
        for vin in contacted[(c["store_code"], c["campaign_id"])]:
            assert landing.store_status(c["store_code"], vin, as_of) in ("at_risk", "churned"), (c, vin)
    for c in truth["campaigns"]:
        counts = by_status[(c["store_code"], c["campaign_id"])]
        assert c["eligible"] == {"at_risk": counts["at_risk"], "churned": counts["churned"]}, c["campaign_id"]
    # the draw is among both statuses, not only the likeliest to come back
    statuses = {landing.store_status(s, v, dt.date.fromisoformat(c["status_date"]))
                for c in truth["campaigns"] for (s, k, v) in contacts if (s, k) == (c["store_code"], c["campaign_id"])}
    assert statuses == {"at_risk", "churned"}


def test_the_truth_counts_are_the_landings_and_the_uplift_follows_its_definition(demo):
    _, truth, _, contacts, landing = demo
    by_campaign = defaultdict(list)
    for (store, campaign_id, vin), r in contacts.items():
        by_campaign[(store, campaign_id)].append((vin, is_true(r["reached"])))
    for c in truth["campaigns"]:
        key = (c["store_code"], c["campaign_id"])
        window = _window(c)
        assert c["measured_to"] == window[1].isoformat()
        assert c["running"] == (dt.date.fromisoformat(c["window_end"]) > LAST)
        rows = by_campaign[key]
        assert c["contacted"] == len(rows) and c["reached"] == sum(r for _, r in rows)
        if not c["has_contact_file"]:
            # a price cut for everyone: no planted effect; its record counts the
            # eligible customers who came back in W
            as_of = dt.date.fromisoformat(c["status_date"])
            back = sum(1 for (s, v) in landing.customers if s == c["store_code"]
                       and landing.store_status(s, v, as_of) in ("at_risk", "churned") and _returned(landing, s, v, window))
            assert (c["contacted"], c["true_uplift"], c["returned_without_campaign"]) == (0, 0.0, back)
            assert c["brought_back_vins"] == []
            continue
        # "with the campaign" is the landing as delivered
        assert c["returned_with_campaign"] == sum(_returned(landing, c["store_code"], v, window) for v, _ in rows)
        extra = c["returned_with_campaign"] - c["returned_without_campaign"]
        # the VINs brought back are that many of the contacted, each back in W
        brought_back = set(c["brought_back_vins"])
        assert len(brought_back) == len(c["brought_back_vins"]) == extra
        assert brought_back <= {v for v, _ in rows}
        assert all(_returned(landing, c["store_code"], v, window) for v in brought_back)
        if c["effective"]:
            assert 0 <= extra <= c["reached"]
        else:
            assert extra == 0  # no planted visit
        if c["contacted"]:
            assert c["true_uplift"] == pytest.approx(extra / c["contacted"])
    finished = [c for c in truth["campaigns"] if c["effective"] and not c["running"]]
    assert sum(c["returned_with_campaign"] - c["returned_without_campaign"] for c in finished) > 0


def test_the_planted_visits_are_customer_paid_maintenance_after_the_call(demo):
    """For an ineffective campaign the contacted come back as they would have;
    an effective one adds visits. The added visits are the contacted VINs'
    customer-paid maintenance orders opened 2 to 45 days after their call:
    there are at least as many of those as the truth's extra returns."""
    root, truth, _, contacts, _ = demo
    ros = _latest(root, "dms/*/*/repair_orders.csv", "dms_repair_orders", lambda r: (r["store_code"], r["ro_number"]))
    maintenance = defaultdict(list)
    for (store, _), r in ros.items():
        if (english("service_type", r["service_type"]), english("payer", r["payer"]),
                english("ro_status", r["status"])) == ("maintenance", "customer", "closed"):
            maintenance[(store, r["vin"])].append(parse_timestamp(r["opened_at"]).date())
    for c in truth["campaigns"]:
        if not c["effective"]:
            continue
        followed = 0
        for (store, campaign_id, vin), r in contacts.items():
            if (store, campaign_id) == (c["store_code"], c["campaign_id"]) and is_true(r["reached"]):
                called = parse_timestamp(r["contacted_at"]).date()
                followed += any(2 <= (d - called).days <= 45 for d in maintenance[(store, vin)])
        assert followed >= c["returned_with_campaign"] - c["returned_without_campaign"]


def test_the_demo_truth_is_readable_from_the_landing_path_alone(demo):
    root = Path(demo[0])
    assert read_truth(root) == demo[1]
    assert "true_uplift = (returned_with_campaign - returned_without_campaign) / contacted" in demo[1]["definition"]
