"""The SPEC's rules computed a second time, in plain Python, straight from the
landing CSVs and the churn-rules seed file, without the project's SQL (SPEC
sections 2, 5, 6 and 7). Tests compare the marts with these figures.

Deliberately simple: dicts and loops over a small generated landing.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from sources.contract import ENUMERATIONS, FLAG_TRUE, LANDING_TABLES

SEEDS = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds"
ELSEWHERE = {"other_same_brand_4s", "other_brand_4s", "independent_shop", "chain_shop", "other"}
DEFAULT_RULES = (6, 12, 6, 5000)  # A, C, service months, service km (dbt_project.yml vars)
MILEAGE_MIN_DAYS = 30
MILEAGE_GRACE_DAYS = 30
REMAINING_EXPECTED_YEARS = 5


def read_landing_csv(path: Path, table: str) -> list[dict]:
    """Rows of one landing file as dicts with English column names."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("gb18030")
    rows = list(csv.reader(io.StringIO(text)))
    columns = next(t for t in LANDING_TABLES if t.name == table).columns
    zh_to_en = {c.zh: c.name for c in columns}
    header = [zh_to_en.get(h, h) for h in rows[0]]
    return [dict(zip(header, r), _line=i) for i, r in enumerate(rows[1:], start=2)]


def english(domain: str, value: str) -> str:
    for code, zh in ENUMERATIONS[domain].items():
        if value in (code, zh):
            return code
    raise AssertionError(f"unknown {domain} {value!r}")


def is_true(value: str) -> bool:
    return value.strip().upper() in FLAG_TRUE


def parse_date(value: str) -> dt.date | None:
    return dt.date.fromisoformat(value[:10].replace("/", "-")) if value.strip() else None


def add_months(d: dt.date, months: int) -> dt.date:
    y, m = divmod(d.month - 1 + months, 12)
    year, month = d.year + y, m + 1
    return dt.date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def month_end(d: dt.date) -> dt.date:
    return d.replace(day=calendar.monthrange(d.year, d.month)[1])


def parse_timestamp(value: str) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value.replace("/", "-")) if value.strip() else None


def _latest(landing: Path, pattern: str, table: str, key) -> dict:
    """Latest version per key: latest updated_at, ties to the later drop, then the later line."""
    latest: dict = {}
    for path in sorted(landing.glob(pattern)):
        drop = path.parent.name
        for r in read_landing_csv(path, table):
            k = key(r)
            version = (parse_timestamp(r.get("updated_at", "")) or dt.datetime.min, drop, r["_line"])
            if k not in latest or version >= latest[k][0]:
                latest[k] = (version, r)
    return {k: r for k, (_, r) in latest.items()}


@dataclass
class Day:
    paid: bool = False
    revenue: Decimal = Decimal("0")
    mileage: int | None = None
    last_opened_at: str = ""


@dataclass
class Customer:
    """One vehicle at one store: its visit days and what the store knows of it."""
    store: str
    vin: str
    days: dict[dt.date, Day] = field(default_factory=dict)

    def last_visit(self, as_of: dt.date) -> dt.date | None:
        return max((d for d in self.days if d <= as_of), default=None)

    def annual_spend(self, last: dt.date) -> Decimal:
        return sum((v.revenue for d, v in self.days.items() if last - dt.timedelta(days=365) < d <= last),
                   Decimal("0"))


class Landing:
    """Everything the checks need, read once from a landing tree."""

    def __init__(self, landing: Path):
        self.data_date = max(dt.date.fromisoformat(p.name) for p in landing.glob("*/*/*") if p.is_dir())
        self.store_brand = {r["store_code"]: r["brand"]
                            for r in read_landing_csv(landing / "reference" / "stores.csv", "reference_stores")}
        self.vehicles = _latest(landing, "dms/*/*/vehicles.csv", "dms_vehicles", lambda r: (r["store_code"], r["vin"]))
        self.owners = _latest(landing, "dms/*/*/customers.csv", "dms_customers",
                              lambda r: (r["store_code"], r["customer_id"]))
        self.rules = {}
        with open(SEEDS / "churn_rules.csv", encoding="utf-8") as fh:
            for r in csv.DictReader(fh):
                self.rules[(r["brand"], r["model"] or None)] = tuple(int(r[c]) for c in (
                    "at_risk_after_months", "churned_after_months", "service_interval_months", "service_interval_km"))
        self.customers: dict[tuple[str, str], Customer] = {}
        ros = _latest(landing, "dms/*/*/repair_orders.csv", "dms_repair_orders",
                      lambda r: (r["store_code"], r["ro_number"]))
        # (store, vin) -> the customer on the VIN's latest RO that names one
        self.ro_owner: dict[tuple[str, str], tuple[tuple, str]] = {}
        for (store, ro_number), r in ros.items():
            seen = (parse_timestamp(r["opened_at"]), ro_number)
            if r["customer_id"] and ((store, r["vin"]) not in self.ro_owner or seen > self.ro_owner[(store, r["vin"])][0]):
                self.ro_owner[(store, r["vin"])] = (seen, r["customer_id"])
        for (store, _), r in ros.items():
            status, payer = english("ro_status", r["status"]), english("payer", r["payer"])
            if status != "closed" or payer == "internal":
                continue
            day = parse_date(r["opened_at"])
            c = self.customers.setdefault((store, r["vin"]), Customer(store, r["vin"]))
            v = c.days.setdefault(day, Day())
            if payer in ("customer", "insurance"):
                v.paid = True
                v.revenue += Decimal(r["total_amount"])
            if r["mileage_km"].strip():
                v.mileage = max(v.mileage or 0, int(r["mileage_km"]))
            v.last_opened_at = max(v.last_opened_at, r["opened_at"])
        responses = _latest(landing, "survey/*/*/responses.csv", "survey_responses",
                            lambda r: (r["store_code"], r["response_id"]))
        self.surveys = defaultdict(list)  # (store, vin) -> [(surveyed_at, response_id, serviced_at, reasons)]
        for (store, rid), r in responses.items():
            if not is_true(r["reached"]):
                continue
            reasons = {english("reason", x) for x in r["reasons"].split(";") if x.strip()}
            serviced = english("serviced_at", r["serviced_at"]) if r["serviced_at"].strip() else None
            self.surveys[(store, r["vin"])].append((r["surveyed_at"], rid, serviced, reasons))

    # ------------------------------------------------------------------ rules

    def vehicle(self, store: str, vin: str) -> dict:
        return self.vehicles.get((store, vin), {})

    def owner(self, store: str, vin: str) -> dict:
        """The owner's latest customer record: the vehicle master's owner, else
        the customer on the VIN's latest repair order."""
        customer_id = self.vehicle(store, vin).get("customer_id") or self.ro_owner.get((store, vin), (None, None))[1]
        return self.owners.get((store, customer_id), {"customer_id": customer_id or ""})

    def thresholds(self, store: str, vin: str) -> tuple[int, int, int, int]:
        v = self.vehicle(store, vin)
        brand = v.get("brand") or self.store_brand.get(store)
        return self.rules.get((brand, v.get("model") or None)) or self.rules.get((brand, None)) or DEFAULT_RULES

    def status(self, store: str, vin: str, last: dt.date, as_of: dt.date) -> str:
        a, c, _, _ = self.thresholds(store, vin)
        if as_of < add_months(last, a):
            return "active"
        if as_of < add_months(last, c):
            return "at_risk"
        return "churned"

    def as_of(self, month: dt.date) -> dt.date:
        return min(month_end(month), self.data_date)

    def store_status(self, store: str, vin: str, as_of: dt.date) -> str | None:
        last = self.customers[(store, vin)].last_visit(as_of)
        return None if last is None else self.status(store, vin, last, as_of)

    def group_last_visit(self, vin: str, as_of: dt.date) -> tuple[dt.date, str] | None:
        """The VIN's last visit at any store, with the store of the day's latest RO."""
        best = None
        for (store, v), c in self.customers.items():
            if v != vin:
                continue
            for d, day in c.days.items():
                if d <= as_of and (best is None or (d, day.last_opened_at) > best[0]):
                    best = ((d, day.last_opened_at), store)
        return None if best is None else (best[0][0], best[1])

    def is_group_transfer(self, store: str, vin: str, as_of: dt.date) -> bool:
        last = self.customers[(store, vin)].last_visit(as_of)
        if self.status(store, vin, last, as_of) == "active":
            return False
        return self.group_last_visit(vin, as_of)[0] > last

    def is_hidden_churn(self, store: str, vin: str, as_of: dt.date) -> bool:
        c = self.customers[(store, vin)]
        last = c.last_visit(as_of)
        if self.status(store, vin, last, as_of) != "active":
            return False
        readings = {d: day.mileage for d, day in c.days.items() if d <= as_of and day.mileage is not None}
        if not readings:
            return False
        first_day, last_day = min(readings), max(readings)
        days = (last_day - first_day).days
        if days < MILEAGE_MIN_DAYS:
            return False
        daily_km = (max(readings.values()) - min(readings.values())) / days
        _, _, months, km = self.thresholds(store, vin)
        due = add_months(last, months)
        if daily_km > 0:
            due = min(due, last + dt.timedelta(days=int(km // daily_km)))
        return as_of > due + dt.timedelta(days=MILEAGE_GRACE_DAYS)

    def loss(self, store: str, vin: str, as_of: dt.date) -> tuple[str | None, str | None]:
        """(loss type, serviced_at) from the latest reached survey after the last visit."""
        last = self.customers[(store, vin)].last_visit(as_of)
        after = [s for s in self.surveys.get((store, vin), ())
                 if last < parse_date(s[0]) <= as_of]
        if not after:
            return None, None
        _, _, serviced, reasons = max(after, key=lambda s: (s[0], s[1]))
        if reasons & {"vehicle_sold", "moved"}:
            return "natural", serviced
        if reasons == {"insurer_assigned"}:
            return "insurer_assigned", serviced
        if serviced in ELSEWHERE:
            return "competitor", serviced
        return "unknown", serviced

    def newly_churned_value(self, store: str, vin: str, month: dt.date) -> Decimal | None:
        """Annual spend of a customer who turned churned in this month, else None."""
        as_of = self.as_of(month)
        previous = month_end(month.replace(day=1) - dt.timedelta(days=1))
        if self.store_status(store, vin, as_of) != "churned":
            return None
        if self.customers[(store, vin)].last_visit(previous) is not None \
                and self.store_status(store, vin, previous) == "churned":
            return None
        return self.customers[(store, vin)].annual_spend(self.customers[(store, vin)].last_visit(as_of))
