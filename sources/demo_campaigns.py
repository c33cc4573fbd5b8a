"""Win-back campaigns in the demo landing, with an effect the generator knows.

Some stores (every one but each fourth) run campaigns against their top loss
reason: one after another, each window W = [start_date, end_date + 90 days]
(SPEC section 7) clear of the next campaign's, the last one still running at
the end of the simulation. At the month end before a campaign's start, the
store's at_risk and churned customers are found from its repair orders by the
rules the warehouse applies (SPEC sections 5 and 6, the brand thresholds of
the churn_rules seed); a share of them, drawn at random and independently of
everything else, is contacted on a day of the campaign's period, and some of
those calls reach the owner.

The planted effect: in an effective campaign, a reached contact makes an
extra visit (a customer-paid maintenance order) with a probability the plan
fixes, 2 to 45 days after the call; an ineffective campaign has none. The
extra visit is added to what the vehicle's simulation did and changes
nothing else of it, so the simulation without the campaign is the one with
it, less those visits: each contacted customer is seen both ways with the
same random numbers. The truth per campaign (demo_truth.json, see
`truth_record`) is therefore exact:

    true_uplift = (returned_with_campaign - returned_without_campaign) / contacted

over the VINs contacted up to the last drop date, "returned" meaning a
qualifying visit within W up to the last drop date. The truth also lists the
VINs brought back (returned with the campaign, not without it), so the true
uplift of any part of the contacted, such as the warehouse's matched
contacted (docs/metrics.md section 3.26), is the share of that part listed. A
campaign with no contact file (a price cut for everyone) has no planted
effect.

Campaign draws use their own random generators, never the vehicle
simulation's, so a landing with campaigns has exactly the other rows of one
without them, plus the extra visits' repair orders.
"""

from __future__ import annotations

import bisect
import csv
import json
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from random import Random

from sources import demo_catalog as cat
from sources.demo_sim import T_CAMP, T_CONTACT, add_months, sub_seed

EFFECT_WINDOW_DAYS = 90  # SPEC section 7: W runs to end_date + the win-back window
TRUTH_FILE = "demo_truth.json"  # beside the landing's folders; not part of the landing contract
ELIGIBLE_STATUSES = ("at_risk", "churned")
CHANNELS = (("phone", 0.60), ("wechat", 0.20), ("sms", 0.15), ("visit", 0.03), ("mail", 0.02))
REACH_P = {"phone": 0.66, "wechat": 0.55, "sms": 0.5, "visit": 0.9, "mail": 0.3}
_CHURN_RULES = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "churn_rules.csv"


def _thresholds() -> dict[tuple[str, str], tuple[int, int]]:
    """(brand, model) -> (at_risk_after_months, churned_after_months), from the
    seed the warehouse reads, so the demo finds the statuses the warehouse will."""
    with open(_CHURN_RULES, encoding="utf-8", newline="") as f:
        return {(r["brand"], r["model"]): (int(r["at_risk_after_months"]), int(r["churned_after_months"]))
                for r in csv.DictReader(f)}


THRESHOLDS = _thresholds()
DEFAULT_THRESHOLDS = (6, 12)  # SPEC section 6


@dataclass
class Campaign:
    """One campaign's plan and, once the store is simulated, what it did."""

    campaign_id: str
    kind: str
    target_reason: str
    title: str
    owner: str
    offer: str
    created: int  # day ordinals
    start: int
    end: int
    contact_share: float  # share of the eligible customers contacted; 0: no contact file
    extra_return_p: float  # planted: P(extra visit | reached contact); 0: ineffective
    fixed_cost: int  # CNY
    per_contact_cost: int
    plan_rate: float  # returns the plan expects per contact (or per eligible customer)
    eligible: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ELIGIBLE_STATUSES, 0))
    contacted: int = 0
    reached: int = 0
    returned_with: int = 0
    returned_without: int = 0
    brought_back: list[str] = field(default_factory=list)  # VINs back only because of the campaign

    @property
    def has_contacts(self) -> bool:
        return self.contact_share > 0

    @property
    def status_day(self) -> int:
        """The month end before start_date: the strata are taken there (SPEC section 7)."""
        return date.fromordinal(self.start).replace(day=1).toordinal() - 1

    @property
    def window_end(self) -> int:
        return self.end + EFFECT_WINDOW_DAYS


def _ri(rng: Random, a: int, b: int) -> int:
    return a + int(rng.random() * (b - a + 1))


def plan_group(seed: int, stores: list, first_day: int, last_day: int) -> list[list[Campaign]]:
    """Every store's campaigns, in start order. Deterministic in the seed and
    the group, so each worker process plans the same. Across the group there
    is, when the window leaves room: a campaign with no contact file, an
    ineffective and an effective one; each campaigning store's last campaign
    is still running at last_day."""
    plans: list[list[Campaign]] = []
    for st in stores:
        rng = Random(sub_seed(seed, st.idx, 9))
        periods: list[tuple[int, int]] = []
        if st.idx % 4 != 3:
            earliest = add_months(first_day, 7)  # an at_risk customer needs 6 months of history
            start, days = last_day - _ri(rng, 10, 60), _ri(rng, 21, 56)
            while start >= earliest:
                periods.append((start, start + days - 1))
                # the previous campaign, `days` long, ends its window (end + 90
                # days) `gap` days before this one starts
                days, gap = _ri(rng, 21, 56), _ri(rng, 1, 90)
                start = start - gap - EFFECT_WINDOW_DAYS - days
        periods.reverse()
        camps = []
        for n, (start, end) in enumerate(periods):
            last = n == len(periods) - 1
            reason = st.weakness if st.weakness in cat.CAMPAIGN_KINDS_BY_REASON else "price"
            kinds = cat.CAMPAIGN_KINDS_BY_REASON[reason]
            kind = kinds[int(rng.random() * len(kinds))]
            titles = cat.CAMPAIGN_TITLES[kind]
            camps.append(Campaign(
                campaign_id=f"ZL{st.code}{date.fromordinal(start).year}{n + 1:02d}",
                kind=kind,
                target_reason=reason,
                title=titles[int(rng.random() * len(titles))],
                owner=cat.CAMPAIGN_OWNERS[int(rng.random() * len(cat.CAMPAIGN_OWNERS))],
                offer=cat.CAMPAIGN_OFFERS[kind],
                created=start - _ri(rng, 7, 30),
                start=start,
                end=end,
                contact_share=0.0 if (not last and rng.random() < 0.15) else round(rng.uniform(0.3, 0.7), 2),
                extra_return_p=round(rng.uniform(0.2, 0.45), 2) if rng.random() < 0.6 else 0.0,
                fixed_cost=_ri(rng, 30, 120) * 100,
                per_contact_cost=_ri(rng, 10, 40),
                plan_rate=round(rng.uniform(0.12, 0.3), 2),
            ))
        plans.append(camps)
    _ensure_variety([c for camps in plans for c in camps[:-1]], [c for camps in plans for c in camps])
    return plans


def _ensure_variety(finished: list[Campaign], every: list[Campaign]) -> None:
    if finished and not any(not c.has_contacts for c in finished):
        finished[0].contact_share = 0.0
    for c in every:
        if not c.has_contacts:  # a price cut for everyone: no planted effect
            c.kind, c.target_reason, c.title, c.offer = "discount", "price", cat.PRICE_CUT_TITLE, ""
            c.extra_return_p = 0.0
            c.fixed_cost *= 5
    contacting = [c for c in every if c.has_contacts]
    if len(contacting) >= 2 and all(c.extra_return_p > 0 for c in contacting):
        contacting[0].extra_return_p = 0.0
    if contacting and all(c.extra_return_p == 0 for c in contacting):
        contacting[-1].extra_return_p = 0.3


class StoreCampaigns:
    """Runs a store's campaigns beside its simulation (sources.demo_sim.StoreSim):
    after each vehicle is simulated, `after_vehicle` finds its status at each
    campaign's month end, contacts it or not, and adds the planted extra
    visit; `emit_campaign_rows` writes the campaigns' versions at the end."""

    def __init__(self, sim, campaigns: list[Campaign]):
        self.sim = sim
        self.campaigns = campaigns
        self.rng = Random(sub_seed(sim.ctx.seed, sim.st.idx, 10))
        brand = sim.st.brand.name
        self._thresholds = {m.name: THRESHOLDS.get((brand, m.name), THRESHOLDS.get((brand, ""), DEFAULT_THRESHOLDS))
                            for m in sim.st.brand.models}
        self._channels = ([c for c, _ in CHANNELS], _cumulative([w for _, w in CHANNELS]))

    def after_vehicle(self, v, first_ro: int) -> None:
        if not self.campaigns:
            return
        sim, E = self.sim, self.sim.E
        ros = sorted(sim.ros[first_ro:], key=lambda r: (r[0], r[1]))
        # SPEC section 5: a qualifying RO is closed (as of the last drop) and not internal; its visit is its open date.
        visits = sorted({r[0] for r in ros if r[12] == "closed" and r[10] <= E and r[0] <= E and r[7] != "internal"})
        if not visits:
            return
        at_risk_m, churned_m = self._thresholds[v.model.name]
        for c in self.campaigns:
            D = c.status_day
            i = bisect.bisect_right(visits, D)
            if i == 0:
                continue  # not on file at D
            L = visits[i - 1]
            if D < add_months(L, at_risk_m):
                continue  # active
            status = "churned" if D >= add_months(L, churned_m) else "at_risk"
            c.eligible[status] += 1
            measured_to = min(c.window_end, E)
            j = bisect.bisect_left(visits, c.start)
            natural = j < len(visits) and visits[j] <= measured_to
            if not c.has_contacts:
                c.returned_without += natural  # the targeted customers' returns, for the record
                continue
            rng = self.rng
            if rng.random() >= c.contact_share:
                continue
            day = c.start + int(rng.random() * (c.end - c.start + 1))
            channel = self._channels[0][bisect.bisect_right(self._channels[1], rng.random())]
            reached = rng.random() < REACH_P[channel]
            extra = reached and rng.random() < c.extra_return_p
            extra_day = day + _ri(rng, 2, 45)
            if day > E:
                continue  # planned, not yet called at the last drop
            cid = _customer_at(ros, day) or v.owner.cid
            at = sim.ts(day, _ri(rng, 32400, 72000))
            e = sim.enum
            sim.emit(T_CONTACT, day, [c.campaign_id, sim.code, v.vin, cid, at, e["contact_channel"][channel],
                                            sim.flag(reached), c.offer, at])
            returned = natural
            if extra and extra_day <= E:
                self._extra_visit(v, ros, extra_day, cid)
                bisect.insort(visits, extra_day)
                returned = True
            c.contacted += 1
            c.reached += reached
            c.returned_with += returned
            c.returned_without += natural
            if returned and not natural:
                c.brought_back.append(v.vin)

    def _extra_visit(self, v, ros: list, day: int, cid: str) -> None:
        """A customer-paid maintenance order on `day`, its odometer read between
        the vehicle's orders around it. Drawn from the campaigns' generator."""
        sim = self.sim
        before = [(r[0], r[5]) for r in ros if r[0] <= day and r[5] is not None]
        after = [(r[0], r[5]) for r in ros if r[0] > day and r[5] is not None]
        d0, km0 = before[-1] if before else (v.purchase, v.km0)
        if after:
            d1, km1 = after[0]
            km = km0 + (km1 - km0) * (day - d0) // max(1, d1 - d0)
        else:
            km = km0 + int(v.daily_km * (day - d0))
        saved, sim.rng, sim.v = sim.rng, self.rng, v
        try:
            sim._ro(day, "maintenance", "customer", sim._maint_lines(km, km0), km)
        finally:
            sim.rng = saved
        sim.ros[-1][4] = cid  # the customer on file then, not a later owner

    def emit_campaign_rows(self) -> None:
        """Each campaign as created (planned cost and expected returns), and
        again after its end with the cost of the contacts made."""
        sim, e = self.sim, self.sim.enum
        for c in self.campaigns:
            eligible = sum(c.eligible.values())
            planned_contacts = round(eligible * c.contact_share)
            if c.has_contacts:
                planned_cost = c.fixed_cost + c.per_contact_cost * planned_contacts
                expected = round(planned_contacts * c.plan_rate)
            else:
                planned_cost, expected = c.fixed_cost, round(eligible * c.plan_rate / 2)
            start = date.fromordinal(c.start)
            name = f"{start.year}年{start.month}月{c.title}"

            def row(day: int, cost: int) -> list[str]:
                at = sim.ts(day, _ri(self.rng, 32400, 64800))
                return [c.campaign_id, sim.code, name, e["campaign_kind"][c.kind], e["reason"][c.target_reason],
                        c.owner, sim.fd(c.start), sim.fd(c.end), f"{cost}.00", str(expected), at]

            sim.emit(T_CAMP, c.created, row(c.created, planned_cost))
            closing = c.end + _ri(self.rng, 3, 14)
            if c.has_contacts:
                sim.emit(T_CAMP, closing, row(closing, c.fixed_cost + c.per_contact_cost * c.contacted))

    def truth(self) -> list[dict]:
        return [truth_record(self.sim.code, c, self.sim.E) for c in self.campaigns]


def _cumulative(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return [x / total for x in out]


def _customer_at(ros: list, day: int) -> str | None:
    """The owner on the vehicle's last order on or before `day`."""
    cid = None
    for r in ros:
        if r[0] > day:
            break
        cid = r[4]
    return cid


def truth_record(store_code: str, c: Campaign, last_day: int) -> dict:
    """What the generator knows of one campaign (module docstring)."""
    iso = lambda d: date.fromordinal(d).isoformat()  # noqa: E731
    record = {
        "store_code": store_code,
        "campaign_id": c.campaign_id,
        "kind": c.kind,
        "target_reason": c.target_reason,
        "start_date": iso(c.start),
        "end_date": iso(c.end),
        "status_date": iso(c.status_day),
        "window_end": iso(c.window_end),
        "measured_to": iso(min(c.window_end, last_day)),
        "running": c.window_end > last_day,
        "has_contact_file": c.has_contacts,
        "planted_extra_return_probability": c.extra_return_p,
        "effective": c.extra_return_p > 0,
        "eligible": dict(c.eligible),
        "contacted": c.contacted,
        "reached": c.reached,
        "returned_with_campaign": c.returned_with if c.has_contacts else None,
        "returned_without_campaign": c.returned_without,
        "true_uplift": ((c.returned_with - c.returned_without) / c.contacted) if c.contacted else None,
        "brought_back_vins": sorted(c.brought_back),
    }
    if not c.has_contacts:
        record["true_uplift"] = 0.0  # no planted effect on anyone
    return record


def write_truth(out_dir: Path, seed: int, last_day: date, campaigns: list[dict]) -> Path:
    path = Path(out_dir) / TRUTH_FILE
    doc = {
        "seed": seed,
        "last_drop_date": last_day.isoformat(),
        "effect_window_days": EFFECT_WINDOW_DAYS,
        "definition": (
            "W = [start_date, end_date + effect_window_days], measured to min(window_end, last_drop_date). "
            "returned = a qualifying visit (closed, payer not internal, visit date = opened_at date) in W. "
            "For a campaign with contacts: contacted = VINs contacted up to the last drop date; "
            "returned_with_campaign / returned_without_campaign = those of them who returned with and without "
            "the campaign (the same simulation, without the planted extra visits); "
            "true_uplift = (returned_with_campaign - returned_without_campaign) / contacted. "
            "brought_back_vins = the contacted VINs who returned with the campaign and not without it "
            "(returned_with_campaign - returned_without_campaign of them), so the true uplift of any subset "
            "of the contacted (e.g. the warehouse's matched contacted) is the share of it listed here. "
            "planted_extra_return_probability = P(an extra visit 2-45 days after the call | the call reached "
            "the owner). eligible = the store's at_risk and churned customers at status_date (the month end "
            "before start_date), among whom the contacted were drawn at random. A campaign with no contact "
            "file has no planted effect (true_uplift 0); returned_without_campaign counts its eligible "
            "customers' returns."
        ),
        "campaigns": campaigns,
    }
    path.write_text(json.dumps(doc, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return path


def read_truth(landing: Path) -> dict:
    """The demo's truth file beside a demo landing (write_truth)."""
    return json.loads((Path(landing) / TRUTH_FILE).read_text(encoding="utf-8"))
