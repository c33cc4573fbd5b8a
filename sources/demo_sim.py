"""The simulation behind the demo landing (sources/demo.py).

A store's customers are vehicles. Each vehicle has an owner, a daily mileage,
a brand service interval and a life: it comes for maintenance when the km or
the months are due, has repairs, warranty work in its first three years,
recalls, accessories, accidents (insurance claims and bodywork), yearly
insurance renewals, may change hands, lapses (competitor, moved, sold,
stopped servicing, moved to a sibling store of the group, or sent elsewhere by
its insurer), is surveyed by the store when it has not been seen for six
months, and sometimes comes back.

Everything is driven by `random.Random` instances seeded from the user's seed,
the store index and a purpose number, and everything iterated is a list, so a
run is reproducible byte for byte. Days are proleptic ordinals (int), times
are seconds of the day.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date
from math import log
from random import Random

from sources import demo_catalog as cat
from sources.contract import ENUMERATIONS

BIG = 10**9
YEAR = 365.25

# Annual lapse hazard by vehicle age in whole years (6 = six and older);
# the warranty ends after three years, and so does much of the loyalty.
LAPSE_HAZARD = (0.05, 0.06, 0.08, 0.19, 0.22, 0.25, 0.28)
# Daily distances (km a day). A private car in a Chinese city runs 10,000 to
# 15,000 km a year: a median of 33 km a day, nine in ten owners between 20 and
# 55. A few private owners drive for a ride-hailing platform; company cars run
# more than private ones, fleet cars (taxis, delivery vans) most. A vehicle's
# mileage is its delivery mileage plus daily km times its age, so a car first
# seen at five years old arrives with five years of driving on the clock.
PRIVATE_KM_MEDIAN, PRIVATE_KM_SIGMA, PRIVATE_KM_RANGE = 33.0, 0.30, (8.0, 90.0)
RIDE_HAILING_SHARE, RIDE_HAILING_KM = 0.02, (100.0, 180.0)
CORPORATE_KM_MEDIAN, CORPORATE_KM_SIGMA, CORPORATE_KM_RANGE = 50.0, 0.35, (15.0, 150.0)
FLEET_KM = (90.0, 200.0)
# High-mileage drivers stretch the km interval (long-life oil), but not beyond
# three intervals.
LONG_INTERVAL_SHARE, LONG_INTERVAL_STRETCH = 0.55, (1.5, 3.0)
REPAIR_RATE = (0.20, 0.25, 0.35, 0.50, 0.60, 0.70, 0.80)  # per year, by age
WARRANTY_RATE = 0.30
ACCIDENT_RATE = 0.13
SCRATCH_RATE = 0.08  # self-paid bodywork
ACCESSORY_RATE = 0.08
RESALE_RATE = 0.03  # ownership changes and the new owner keeps the store
PHONE_CHANGE_RATE = 0.03
WARRANTY_YEARS = 3

# Where a lapsed owner went (serviced_at) for competitor losses.
COMPETITOR_DEST = (("independent_shop", 0.42), ("chain_shop", 0.25), ("other_same_brand_4s", 0.18), ("other_brand_4s", 0.10), ("other", 0.05))
COMPETITOR_REASONS = (("price", 0.42), ("service_attitude", 0.18), ("distance", 0.14), ("waiting_time", 0.12), ("repair_quality", 0.10), ("other", 0.04))
RETURN_P = {"competitor": 0.18, "stopped": 0.25, "moved": 0.02, "sibling": 0.0, "sold": 0.0, "insurer": 0.6}
BOOK_P = {"not_due": 0.45, "competitor": 0.22, "stopped": 0.30, "insurer": 0.35, "moved": 0.03, "sibling": 0.02, "sold": 0.0}
SHOW_P = 0.55  # a booked lapsed owner shows up within 90 days
METHODS = (("phone", 0.80), ("wechat", 0.10), ("event", 0.04), ("visit", 0.03), ("email", 0.03))
REACH_P = {"phone": 0.66, "wechat": 0.55, "event": 1.0, "visit": 0.9, "email": 0.3}

_HMS: list[str] = []


def hms(sec: int) -> str:
    if not _HMS:
        _HMS.extend(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86400))
    return _HMS[sec]


def _ri(rng: Random, a: int, b: int) -> int:
    """rng.randint(a, b), without its overhead."""
    return a + int(rng.random() * (b - a + 1))


def _rr(rng: Random, n: int) -> int:
    return int(rng.random() * n)


def sub_seed(seed: int, *parts: int) -> int:
    x = seed & 0xFFFFFFFFFFFF
    for p in parts:
        x = (x * 1_000_003 + p + 7919) % (1 << 61)
    return x


_ADD_MONTHS: dict[tuple[int, int], int] = {}


def add_months(day: int, n: int) -> int:
    r = _ADD_MONTHS.get((day, n))
    if r is None:
        r = _ADD_MONTHS[(day, n)] = _add_months(day, n)
    return r


def _add_months(day: int, n: int) -> int:
    d = date.fromordinal(day)
    m = d.month - 1 + n
    y, m = d.year + m // 12, m % 12 + 1
    last = (date(y + (m == 12), m % 12 + 1, 1) - date(y, m, 1)).days
    return date(y, m, min(d.day, last)).toordinal()


def add_years(day: int, n: int) -> int:
    d = date.fromordinal(day)
    try:
        return d.replace(year=d.year + n).toordinal()
    except ValueError:  # 29 February
        return d.replace(year=d.year + n, day=28).toordinal()


def cents(c: int) -> str:
    return f"{c // 100}.{c % 100:02d}"


def _cum(pairs):
    total, out = 0.0, []
    for _, w in pairs:
        total += w
        out.append(total)
    return [p[0] for p in pairs], out


def pick(rng: Random, cum_pairs) -> object:
    items, cw = cum_pairs
    return items[bisect.bisect_right(cw, rng.random() * cw[-1])]


# ------------------------------------------------------------------ the group


@dataclass
class StoreCfg:
    idx: int
    code: str
    num: int
    name: str
    brand: cat.Brand
    city: cat.City
    opened_on: date
    encoding: str  # utf-8, utf-8-sig or gb18030
    chinese: bool  # Chinese headers and enumeration labels
    flags: tuple[str, str]
    slash_dates: bool
    newline: str
    quality: float  # multiplies lapse hazards
    weakness: str  # the reason this store loses most customers to
    labor_rate: int
    siblings: list[int] = field(default_factory=list)


@dataclass
class Ctx:
    seed: int
    S: int
    E: int
    vehicles_per_store: int
    stores: list[StoreCfg]
    recalls: dict[str, list[tuple]]  # brand key -> campaigns
    month_starts: list[int]

    @property
    def ndays(self) -> int:
        return self.E - self.S + 1


def build_group(seed: int, n_stores: int, S: int, E: int, vehicles_per_store: int) -> Ctx:
    rng = Random(sub_seed(seed, 0, 0))
    stores: list[StoreCfg] = []
    dealer_used: dict[str, int] = {}
    weaknesses = ("price", "service_attitude", "distance", "waiting_time", "price", "repair_quality")
    for i in range(n_stores):
        brand = cat.BRANDS[cat.STORE_BRAND_CYCLE[i % len(cat.STORE_BRAND_CYCLE)]]
        city = cat.CITIES[i % len(cat.CITIES)]
        k = dealer_used.get(city.name, 0)
        dealer_used[city.name] = k + 1
        dealer = cat.DEALER_NAMES[(i * 7 + k) % len(cat.DEALER_NAMES)]
        suffix = "" if k < len(cat.DEALER_NAMES) else str(k // len(cat.DEALER_NAMES) + 1)
        name = f"{city.name}{dealer}{brand.short}4S店{suffix}"
        last = i == n_stores - 1 and n_stores >= 2
        bom = i == 1 and not last
        if last:
            enc, chinese, flags, slash, nl = "gb18030", True, ("是", "否"), True, "\r\n"
        elif bom:
            enc, chinese, flags, slash, nl = "utf-8-sig", False, ("Y", "N"), False, "\r\n"
        elif i % 4 == 2:
            enc, chinese, flags, slash, nl = "utf-8", False, ("1", "0"), False, "\n"
        else:
            enc, chinese, flags, slash, nl = "utf-8", False, ("Y", "N"), False, "\n"
        opened = date(date.fromordinal(S).year - 8 - _ri(rng, 0, 10), _ri(rng, 1, 12), _ri(rng, 1, 28))
        stores.append(
            StoreCfg(
                idx=i,
                code=f"S{i + 1:03d}",
                num=i + 1,
                name=name,
                brand=brand,
                city=city,
                opened_on=opened,
                encoding=enc,
                chinese=chinese,
                flags=flags,
                slash_dates=slash,
                newline=nl,
                quality=rng.uniform(0.7, 1.5),
                weakness=weaknesses[_rr(rng, len(weaknesses))],
                labor_rate=int(brand.labor_rate * rng.uniform(0.9, 1.1) / 10) * 10,
            )
        )
    for st in stores:
        st.siblings = [o.idx for o in stores if o.brand.key == st.brand.key and o.idx != st.idx]
    recalls: dict[str, list[tuple]] = {}
    span = E - S
    for key in sorted(cat.BRANDS):
        brand = cat.BRANDS[key]
        camps = []
        for _ in range(1 + (span > 500) + (span > 900)):
            model = brand.models[_rr(rng, len(brand.models))]
            start = S + _ri(rng, 20, max(21, span - 60))
            y0 = date.fromordinal(S).year - _ri(rng, 1, 5)
            job = cat.RECALL_JOBS[_rr(rng, len(cat.RECALL_JOBS))]
            camps.append((start, model.name, y0, y0 + _ri(rng, 0, 2), job))
        camps.sort(key=lambda c: c[0])
        recalls[key] = camps
    months = []
    d = date.fromordinal(S).replace(day=1)
    while d.toordinal() <= E + 62:
        months.append(d.toordinal())
        d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return Ctx(seed, S, E, vehicles_per_store, stores, recalls, months)


# ------------------------------------------------------- vehicles and owners


class Owner:
    __slots__ = (
        "cid", "name", "phone", "gender", "birth", "occupation", "ctype", "district", "city",
        "member", "created", "reg_day", "reg_sec", "seq",
    )

    def copy_for(self, cid: str, seq: int) -> Owner:
        o = Owner()
        for s in Owner.__slots__:
            setattr(o, s, getattr(self, s))
        o.cid, o.seq, o.reg_day, o.reg_sec, o.created = cid, seq, None, 0, None
        return o


class Veh:
    __slots__ = (
        "key", "vin", "model", "model_year", "purchase", "sold_by_store", "daily_km", "km0",
        "owner", "plate", "timing", "km_stretch", "time_stretch", "loyalty", "ins_loyal",
        "insurer", "pol_shift", "lapse_day", "lapse_type", "move_to", "arrival", "inbound",
        "advisor",
    )


_SURNAMES = _cum(cat.SURNAMES)
_OCCUPATIONS = _cum(cat.OCCUPATIONS)
_INSURERS = _cum([(i, w) for i, (_, _, w) in enumerate(cat.INSURERS)])
_DEST = _cum(COMPETITOR_DEST)
_METHODS = _cum(METHODS)
_PHONE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "156", "158", "159", "180", "181", "186", "187", "188", "189")


def _phone(rng: Random) -> str:
    return _PHONE_PREFIXES[_rr(rng, len(_PHONE_PREFIXES))] + f"{_rr(rng, 100_000_000):08d}"


def _person_name(rng: Random, gender: str) -> str:
    pool = cat.GIVEN_MALE if gender == "M" else cat.GIVEN_FEMALE
    given = pool[_rr(rng, len(pool))]
    if rng.random() < 0.7:
        first = cat.GIVEN_ANY if rng.random() < 0.4 else pool
        given = first[_rr(rng, len(first))] + given
    return pick(rng, _SURNAMES) + given


def _plate(rng: Random, prefix: str) -> str:
    chars = []
    letters = 0 if rng.random() < 0.6 else _ri(rng, 1, 2)
    pos = set(rng.sample(range(5), letters))
    for i in range(5):
        if i in pos:
            chars.append(cat.VIN_LETTERS[_rr(rng, len(cat.VIN_LETTERS))])
        else:
            chars.append(str(_rr(rng, 10)))
    return prefix + "".join(chars)


def _district(rng: Random, city: cat.City) -> str:
    d = city.districts
    # The store's own district first, neighbours less likely.
    i = min(int(rng.expovariate(0.45)), len(d) - 1)
    return d[i]


def new_owner(rng: Random, st: StoreCfg, ctx: Ctx, ctype: str, created_day: int, cid: str, seq: int) -> Owner:
    o = Owner()
    o.cid, o.seq, o.ctype = cid, seq, ctype
    if rng.random() < 0.9:
        city = st.city
    else:
        same = [c for c in cat.CITIES if c.region == st.city.region and c.name != st.city.name]
        city = same[_rr(rng, len(same))] if same else st.city
    o.city, o.district = city.name, _district(rng, city)
    if ctype == "individual":
        r = rng.random()
        o.gender = "M" if r < 0.67 else "F" if r < 0.98 else ""
        o.name = _person_name(rng, o.gender or "M")
        y = date.fromordinal(created_day).year - _ri(rng, 22, 62)
        o.birth = date(y, _ri(rng, 1, 12), _ri(rng, 1, 28)).toordinal() if rng.random() < 0.9 else None
        o.occupation = pick(rng, _OCCUPATIONS)
    else:
        word = cat.COMPANY_WORDS[_rr(rng, len(cat.COMPANY_WORDS))]
        kinds = cat.FLEET_KINDS if ctype == "fleet" else cat.COMPANY_KINDS
        o.name = f"{city.name}市{word}{kinds[_rr(rng, len(kinds))]}"
        o.gender, o.birth, o.occupation = "", None, ""
    o.phone = _phone(rng)
    o.member = rng.random() < 0.3
    o.created = None
    o.reg_day, o.reg_sec = None, 0
    return o


def _lognormal_km(rng: Random, median: float, sigma: float, bounds: tuple[float, float]) -> float:
    return min(bounds[1], max(bounds[0], rng.lognormvariate(log(median), sigma)))


def private_daily_km(rng: Random) -> float:
    return _lognormal_km(rng, PRIVATE_KM_MEDIAN, PRIVATE_KM_SIGMA, PRIVATE_KM_RANGE)


def _lapse_draw(rng: Random, start: int, purchase: int, mult: float, E: int) -> int:
    t = start
    while t <= E:
        age = int((t - purchase) / YEAR)
        h = LAPSE_HAZARD[age if age < 6 else 6] * mult
        if rng.random() < h * 0.25:
            return t + _rr(rng, 91)
        t += 91
    return BIG


def _lapse_type(rng: Random, age_years: float, sibling_ok: bool) -> str:
    w_sold = 0.08 + 0.025 * min(age_years, 10)
    pairs = (("competitor", 0.46), ("sibling", 0.12 if sibling_ok else 0.0), ("moved", 0.09), ("sold", w_sold), ("stopped", 0.10))
    return pick(rng, _cum(pairs))


def plan_store(ctx: Ctx, st: StoreCfg) -> tuple[list[Veh], list[Owner]]:
    """The store's own vehicle population and first-lapse plan (deterministic:
    called once to find movers to sibling stores, once to simulate)."""
    rng = Random(sub_seed(ctx.seed, st.idx, 1))
    S, E = ctx.S, ctx.E
    brand = st.brand
    models = _cum([(m, m.weight) for m in brand.models])
    earliest = S - 6 * 365
    opened = st.opened_on.toordinal()
    vehicles: list[Veh] = []
    owners: list[Owner] = []
    individuals: list[Owner] = []
    corporates: list[Owner] = []
    n = ctx.vehicles_per_store
    fleets: list[Owner] = []

    def owner_for(ctype: str, day: int) -> Owner:
        o = new_owner(rng, st, ctx, ctype, day, f"C{st.num:03d}{len(owners) + 1:06d}", len(owners))
        owners.append(o)
        return o

    for i in range(n):
        P = _ri(rng, earliest, E - 5)
        model = pick(rng, models)
        r = rng.random()
        ctype = "individual" if r < 0.88 else "corporate" if r < 0.97 else "fleet"
        if ctype == "individual":
            if individuals and rng.random() < 0.07:
                owner = individuals[_rr(rng, len(individuals))]
            else:
                owner = owner_for(ctype, P)
                individuals.append(owner)
        elif ctype == "corporate":
            if corporates and rng.random() < 0.4:
                owner = corporates[_rr(rng, len(corporates))]
            else:
                owner = owner_for(ctype, P)
                corporates.append(owner)
        else:
            if len(fleets) < 1 + n // 150:
                owner = owner_for(ctype, P)
                fleets.append(owner)
            else:
                owner = fleets[_rr(rng, len(fleets))]
        v = Veh()
        v.key = (st.idx, i)
        v.model = model
        pd = date.fromordinal(P)
        v.model_year = pd.year + (1 if pd.month >= 10 and rng.random() < 0.6 else 0) - (1 if rng.random() < 0.08 else 0)
        v.purchase = P
        v.sold_by_store = P >= opened and rng.random() < (0.78 if ctype != "fleet" else 0.6)
        if ctype == "fleet":
            v.daily_km = rng.uniform(*FLEET_KM)
        elif ctype == "corporate":
            v.daily_km = _lognormal_km(rng, CORPORATE_KM_MEDIAN, CORPORATE_KM_SIGMA, CORPORATE_KM_RANGE)
        elif rng.random() < RIDE_HAILING_SHARE:
            v.daily_km = rng.uniform(*RIDE_HAILING_KM)
            owner.occupation = "司机"
        else:
            v.daily_km = private_daily_km(rng)
        v.km0 = _ri(rng, 5, 40)  # delivery mileage of a new car
        v.owner = owner
        plate_city = next((c for c in cat.CITIES if c.name == owner.city), st.city)
        v.plate = _plate(rng, plate_city.plate)
        r = rng.random()
        v.timing = 0 if r < 0.55 else 1 if r < 0.80 else 2 if r < 0.88 else 3
        v.time_stretch = rng.uniform(0.95, 1.2)
        long_interval = v.daily_km > 80 and rng.random() < LONG_INTERVAL_SHARE
        v.km_stretch = rng.uniform(*LONG_INTERVAL_STRETCH) if long_interval else rng.uniform(0.95, 1.25)
        mult = rng.lognormvariate(0.0, 0.45) * st.quality
        mult *= 1.5 if not v.sold_by_store else 1.0
        mult *= 0.7 if ctype == "fleet" else 1.2 if ctype == "corporate" else 1.0
        v.loyalty = mult
        v.ins_loyal = rng.uniform(0.55, 0.9) if v.sold_by_store else rng.uniform(0.2, 0.6)
        v.insurer = pick(rng, _INSURERS)
        v.pol_shift = 0 if rng.random() < 0.6 else _ri(rng, 1, 40)
        v.lapse_day = _lapse_draw(rng, P, P, mult, E)
        v.move_to, v.arrival, v.inbound = -1, BIG, False
        v.lapse_type = ""
        if v.lapse_day < BIG:
            t = _lapse_type(rng, (v.lapse_day - P) / YEAR, bool(st.siblings) and v.lapse_day >= S)
            if t == "sibling":
                sibs = st.siblings
                near = [s for s in sibs if ctx.stores[s].city.region == st.city.region]
                pool = near if near and rng.random() < 0.8 else sibs
                v.move_to = pool[_rr(rng, len(pool))]
                v.arrival = v.lapse_day + _ri(rng, 20, 240)
            v.lapse_type = t
        v.advisor = _rr(rng, 64)
        vin_model_year = v.model_year
        vds = model.vds + cat.VIN_CHARS[_rr(rng, len(cat.VIN_CHARS))]
        v.vin = cat.make_vin(brand.wmi, vds, vin_model_year, st.idx * 100_000 + i)
        vehicles.append(v)
    return vehicles, owners


def inbound_copy(v: Veh, arrival: int) -> Veh:
    w = Veh()
    for s in Veh.__slots__:
        setattr(w, s, getattr(v, s))
    w.inbound, w.arrival, w.sold_by_store = True, arrival, False
    w.move_to, w.lapse_type, w.lapse_day = -1, "", BIG
    return w


# ------------------------------------------------------------ one store's run

T_CUST, T_VEH, T_RO, T_LINE, T_POL, T_CLAIM, T_SURV, T_CAMP, T_CONTACT = range(9)
_LINE_NOS = [str(i) for i in range(1, 200)]

# Event codes of the per-vehicle loop.
_MAINT, _REPAIR, _WARR, _ACC, _SCRATCH, _ACCIDENT, _POLICY, _SURVEY, _RECALL, _RESALE, _LAPSE, _RETURN = range(12)


class StoreSim:
    """Simulates one store over the window and returns its rows bucketed by
    drop day: `buckets[table][day - S]` is a list of formatted CSV rows."""

    def __init__(self, ctx: Ctx, st: StoreCfg, vehicles: list[Veh], owners: list[Owner], inbound: list[Veh]):
        self.ctx, self.st = ctx, st
        self.rng = Random(sub_seed(ctx.seed, st.idx, 2))
        self.S, self.E = ctx.S, ctx.E
        nd = ctx.ndays
        self.buckets: list[list[list[list[str]]]] = [[[] for _ in range(nd)] for _ in range(T_CONTACT + 1)]
        self.ros: list[list] = []
        self.surveys: list[list] = []
        self.owners = owners
        self.brand = st.brand
        self.code = st.code
        self.im_days = st.brand.interval_months * 30.44
        self.ik = st.brand.interval_km
        self.rate = st.labor_rate
        self._rate_s = cents(st.labor_rate * 100)
        self.n_adv = max(4, min(40, ctx.vehicles_per_store // 120))
        self.pol_seq = 0
        self.claim_seq = 0
        self.ro_seq = 0
        self.cid_seq = len(owners)
        zh = st.chinese
        self.enum = {k: (dict(m) if zh else {c: c for c in m}) for k, m in ENUMERATIONS.items()}
        self.flag_t, self.flag_f = st.flags
        self._iso = [date.fromordinal(d).isoformat() for d in range(self.S, self.E + 1)]
        self._yymmdd = [s[2:4] + s[5:7] + s[8:10] for s in self._iso]
        self._dcache: dict[int, str] = {}
        self.siblings_names = [ctx.stores[i].name for i in st.siblings]
        self.vehicles = vehicles
        self.inbound = inbound
        self.v: Veh = None  # type: ignore[assignment]
        self.km_day = 0
        self.km_base = 0.0

    def ri(self, a: int, b: int) -> int:
        return a + int(self.rng.random() * (b - a + 1))

    def rr(self, n: int) -> int:
        return int(self.rng.random() * n)

    # ------------------------------------------------------------ formatting
    def fd(self, day: int | None) -> str:
        """A DATE column in this store's format."""
        if day is None:
            return ""
        s = self._dcache.get(day)
        if s is None:
            s = date.fromordinal(day).isoformat()
            if self.st.slash_dates:
                s = s.replace("-", "/")
            self._dcache[day] = s
        return s

    def ts(self, day: int, sec: int) -> str:
        i = day - self.S
        if 0 <= i < len(self._iso):
            return self._iso[i] + " " + hms(sec)
        return date.fromordinal(day).isoformat() + " " + hms(sec)

    def flag(self, b: bool) -> str:
        return self.flag_t if b else self.flag_f

    def emit(self, table: int, day: int, row: list[str]) -> None:
        if self.S <= day <= self.E:
            self.buckets[table][day - self.S].append(row)

    # ------------------------------------------------------------- helpers
    def _exp(self, t: int, per_year: float) -> int:
        return t + 1 + int(self.rng.expovariate(per_year / 365.0))

    def _km(self, t: int) -> int:
        return int(self.km_base + self.v.daily_km * (t - self.km_day))

    def _interval(self, v: Veh) -> float:
        return min(self.im_days * v.time_stretch, self.ik * v.km_stretch / v.daily_km)

    def _next_maint(self, v: Veh, last: int) -> int:
        rng = self.rng
        d = self._interval(v)
        tm = v.timing
        if tm == 0:
            d += rng.gauss(0, 7)
        elif tm == 1:
            d += rng.uniform(5, 50)
        elif tm == 2:
            d -= rng.uniform(0, 15)
        else:
            d *= rng.uniform(1.2, 1.9)
        return last + max(20, int(d))

    def _campaign(self, eligible: int) -> int:
        """The day the store's monthly lost-customer calls reach this customer
        (calls run from the 4th to the 25th of each month)."""
        ms = self.ctx.month_starts
        floor = max(eligible, self.S)
        i = max(0, bisect.bisect_right(ms, floor) - 1)
        while i < len(ms):
            d = ms[i] + self.ri(3, 24)
            if d >= floor:
                return d
            i += 1
        return BIG

    def _open_sec(self) -> int:
        return int(self.rng.triangular(30600, 63000, 34200))

    def _advisor(self) -> str:
        k = self.v.advisor % self.n_adv if self.rng.random() < 0.8 else self.rr(self.n_adv)
        return f"SA{self.st.num:03d}{k + 1:02d}"

    def _pf(self) -> float:
        return (self.v.model.value_k / 150.0) ** 0.5

    # ------------------------------------------------------------ RO lines
    def _labor(self, spec) -> tuple:
        code, desc, lo, hi = spec
        h = self.ri(lo, hi)
        amt = h * self.rate * 10
        return ("labor", code, desc, "", f"{h // 10}.{h % 10}", self._rate_s, amt, cents(amt), 0, "")

    def _part(self, spec, pf: float, q10: int | None = None) -> tuple:
        rng = self.rng
        code, desc, q, lo, hi, lt = spec
        if q10 is None:
            if isinstance(q, tuple):
                q = q[self.rr(len(q))]
            q10 = q * 10
        unit = int(rng.uniform(lo, hi) * pf) * 100
        if q10 % 10 == 0 and rng.random() < 0.3:
            unit += (50, 80, 90)[self.rr(3)]
        amt = unit * q10 // 10
        cost = int(amt * rng.uniform(0.60, 0.75))
        qs = str(q10 // 10) if q10 % 10 == 0 else f"{q10 // 10}.{q10 % 10}"
        return (lt, self.brand.part_prefix + code, desc, qs, "", cents(unit), amt, cents(amt), cost, cents(cost))

    def _maint_lines(self, km: int, last_km: int) -> list[tuple]:
        rng = self.rng
        pf = self._pf()
        big = km // 20000 > last_km // 20000
        lines = [self._labor(cat.MAINT_BIG_LABOR if big else cat.MAINT_LABOR)]
        oil_code, oil_desc, lo, hi = cat.MAINT_OIL
        lines.append(self._part((oil_code, oil_desc, 1, lo, hi, "part"), pf ** 0.3, int(self.v.model.oil_liters * 10)))
        lines.append(self._part(cat.MAINT_FILTER, pf))
        if rng.random() < 0.5:
            lines.append(self._part(cat.MAINT_WASHER, 1.0))
        if big:
            lines.append(self._part(cat.MAINT_AIR, pf))
            lines.append(self._part(cat.MAINT_CABIN, pf))
        if km // 40000 > last_km // 40000:
            lines.append(self._part(cat.MAINT_PLUGS, pf))
            lines.append(self._labor(cat.MAINT_BRAKE_FLUID_LABOR))
            lines.append(self._part(cat.MAINT_BRAKE_FLUID, 1.0))
        if km // 60000 > last_km // 60000:
            lines.append(self._labor(cat.MAINT_ATF_LABOR))
            lines.append(self._part(cat.MAINT_ATF, pf))
        for spec, p in cat.MAINT_MATERIALS:
            if rng.random() < p:
                lines.append(self._part(spec, 1.0))
        return lines

    def _job_lines(self, jobs, n: int) -> list[tuple]:
        rng = self.rng
        pf = self._pf()
        lines: list[tuple] = []
        chosen: list[int] = []
        weights = [j[-1] for j in jobs]
        while len(chosen) < n:
            k = rng.choices(range(len(jobs)), weights)[0]
            if k not in chosen:
                chosen.append(k)
        for k in chosen:
            code, desc, lo, hi, parts = jobs[k][:5]
            lines.append(self._labor((code, desc, lo, hi)))
            for spec in parts:
                lines.append(self._part(spec, pf))
        return lines

    def _body_lines(self, n_panels: int, replace_p: float) -> list[tuple]:
        rng = self.rng
        pf = self._pf()
        lines: list[tuple] = []
        for panel in rng.sample(cat.BODY_PANELS, n_panels):
            if rng.random() < 0.6:
                lines.append(self._labor(("WH3001", f"钣金修复-{panel}", 10, 30)))
            lines.append(self._labor(("WH3002", f"喷漆-{panel}", 20, 35)))
            lines.append(self._part(("M3001", f"油漆辅料-{panel}", 1, 220, 480, "material"), 1.0))
        if rng.random() < replace_p:
            for spec in rng.sample(cat.BODY_PARTS, self.ri(1, 2)):
                lines.append(self._part(spec, pf))
        return lines

    def _accessory_lines(self) -> list[tuple]:
        rng = self.rng
        items = cat.ACCESSORIES
        lines: list[tuple] = []
        for k in sorted(set(rng.choices(range(len(items)), [a[2] for a in items], k=self.ri(1, 2)))):
            parts, labor, _ = items[k]
            if labor:
                lines.append(self._labor(labor))
            for spec in parts:
                lines.append(self._part(spec, 1.0))
        return lines

    # ------------------------------------------------------------- the RO
    def _ro(self, day: int, stype: str, payer: str, lines: list[tuple], km: int | None, *,
            multi_p: float = 0.0, multi_days: tuple[int, int] = (1, 4), cancel_p: float = 0.0,
            claim_no: str = "", sec: int | None = None) -> tuple[int, int, str]:
        """Record a repair order; returns (total cents, close day, final status)."""
        rng = self.rng
        if sec is None:
            sec = self._open_sec()
        labor = parts = 0
        for ln in lines:
            if ln[0] == "labor":
                labor += ln[6]
            else:
                parts += ln[6]
        other = disc = 0
        if payer == "customer":
            if rng.random() < 0.05:
                other = (5000, 10000, 15000, 20000, 30000)[self.rr(5)]
            if self.v.owner.member:
                disc = labor // 10
            r = rng.random()
            if r < 0.12:
                disc += (labor + parts + other - disc) % 100
            elif r < 0.16:
                disc += (labor + parts + other - disc) % 1000
        status = "closed"
        close_day = day
        if cancel_p and rng.random() < cancel_p:
            status = "cancelled"
            close_day = day + self.ri(1, 3)
        elif multi_p and rng.random() < multi_p:
            close_day = day + self.ri(*multi_days)
        if close_day == day:
            close_sec = min(86399, sec + self.ri(45, 240) * 60)
        else:
            close_sec = self.ri(36000, 68400)
        open_k = len(lines)
        if close_day > day and len(lines) > 2 and rng.random() < 0.4:
            open_k = len(lines) - self.ri(1, 2)
        self.ro_seq += 1
        self.ros.append([day, sec, self.ro_seq, self.v.vin, self.v.owner.cid, km, stype, payer, lines,
                         open_k, close_day, close_sec, status, other, disc, self._advisor(), claim_no])
        return labor + parts + other - disc, close_day, status

    # ------------------------------------------------------ masters
    def _register(self, day: int, sec: int, extract: bool = False) -> None:
        v = self.v
        o = v.owner
        if o.reg_day is None or (day, sec) < (o.reg_day, o.reg_sec):
            o.reg_day, o.reg_sec = day, sec
        if extract:
            hist = min(self.S - 1, v.purchase + (0 if v.sold_by_store else self.ri(20, 200)))
            if o.created is None or hist < o.created:
                o.created = hist
        self._vehicle_row(day, sec)

    def _vehicle_row(self, day: int, sec: int) -> None:
        v = self.v
        self.emit(T_VEH, day, [v.vin, self.code, v.owner.cid, v.plate, self.brand.name, v.model.name,
                               str(v.model_year), self.fd(v.purchase), self.flag(v.sold_by_store), self.ts(day, sec)])

    def _new_cid(self) -> tuple[str, int]:
        self.cid_seq += 1
        return f"C{self.st.num:03d}{self.cid_seq:06d}", self.cid_seq - 1

    def _customer_rows(self) -> None:
        rng = Random(sub_seed(self.ctx.seed, self.st.idx, 3))
        e = self.enum
        for o in self.owners:
            if o.reg_day is None:
                continue
            if o.created is not None:
                created = self.ts(o.created, _ri(rng, 32400, 64800))
            else:
                created = self.ts(o.reg_day, o.reg_sec)
            phone, district = o.phone, o.district

            def row(day: int, sec: int) -> list[str]:
                return [o.cid, self.code, o.name, phone, e["gender"].get(o.gender, ""), self.fd(o.birth),
                        o.occupation, e["customer_type"][o.ctype], district, o.city, created, self.ts(day, sec)]

            self.emit(T_CUST, o.reg_day, row(o.reg_day, o.reg_sec))
            t = self._exp_r(rng, o.reg_day, PHONE_CHANGE_RATE + 0.01)
            while t <= self.E:
                if rng.random() < 0.75:
                    phone = _phone(rng)
                else:
                    city = next((c for c in cat.CITIES if c.name == o.city), self.st.city)
                    district = city.districts[_rr(rng, len(city.districts))]
                self.emit(T_CUST, t, row(t, _ri(rng, 32400, 68400)))
                t = self._exp_r(rng, t, PHONE_CHANGE_RATE + 0.01)

    @staticmethod
    def _exp_r(rng: Random, t: int, per_year: float) -> int:
        return t + 1 + int(rng.expovariate(per_year / 365.0))

    # ------------------------------------------------------ insurance
    def _policy_pair(self, issue_day: int, start: int, insurer: int, sold_here: bool, renewal: bool,
                     commercial: bool, emit: bool, claim_year: bool) -> tuple[str, str]:
        rng = self.rng
        v = self.v
        self.pol_seq += 1
        ins_name, ins_code, _ = cat.INSURERS[insurer]
        year = date.fromordinal(start).year
        base = f"{year}{self.st.num:03d}{self.pol_seq:07d}"
        comp_no, comm_no = f"{ins_code}J{base}", f"{ins_code}S{base}"
        if emit and self.S <= issue_day <= self.E:
            end = add_years(start, 1) - 1
            age = max(0.0, (start - v.purchase) / YEAR)
            ncd = 1.0 if claim_year else max(0.7, 1.0 - 0.1 * min(int(age), 3))
            comp = int((110000 if v.model.seats > 5 else 95000) * ncd)
            sec = self.ri(32400, 68400)
            upd = self.ts(issue_day, sec)
            e = self.enum["policy_type"]
            sf, rf = self.flag(sold_here), self.flag(renewal)
            self.emit(T_POL, issue_day, [comp_no, self.code, v.vin, ins_name, e["compulsory"], self.fd(start),
                                         self.fd(end), cents(comp), sf, rf, upd])
            if commercial:
                dep = max(0.45, 1.0 - 0.08 * age)
                prem = max(90000, int(v.model.value_k * 1000 * 2.4 * dep * ncd * rng.uniform(0.9, 1.1)))
                self.emit(T_POL, issue_day, [comm_no, self.code, v.vin, ins_name, e["commercial"], self.fd(start),
                                             self.fd(end), cents(prem), sf, rf, upd])
        return comm_no if commercial else "", comp_no

    def _claim_rows(self, claim_no: str, policy_no: str, insurer: int, accident: int, report: int,
                    assigned: str, amount_open: int, final_day: int, final_status: str, amount_final: int) -> None:
        v = self.v
        ins = cat.INSURERS[insurer][0]
        e = self.enum["claim_status"]
        acc = self.fd(accident)
        self.emit(T_CLAIM, report, [claim_no, policy_no, v.vin, ins, acc, assigned, cents(amount_open), e["open"],
                                    self.ts(report, self.ri(28800, 72000))])
        if final_day <= self.E:
            self.emit(T_CLAIM, final_day, [claim_no, policy_no, v.vin, ins, acc, assigned, cents(amount_final),
                                           e[final_status], self.ts(final_day, self.ri(32400, 64800))])

    # -------------------------------------------------------- the survey
    def _survey(self, t: int, truth: str, km: int | None, dest: str, reasons: list[str]) -> tuple[bool, bool]:
        """Record one call; returns (reached, win_back_booked)."""
        rng = self.rng
        v = self.v
        method = pick(rng, _METHODS)
        reached = rng.random() < REACH_P[method]
        sec = self.ri(32400, 72000)
        if not reached:
            c = cat.UNREACHED_COMMENTS[self.rr(len(cat.UNREACHED_COMMENTS))]
            self.surveys.append([t, sec, v.owner.cid, v.vin, method, False, "", "", "", [], c, False])
            return False, False
        if truth == "not_due":
            maint = "regular" if rng.random() < 0.7 else "irregular"
            serviced = "none"
            rs = [] if rng.random() < 0.65 else ["other"]
        elif truth == "sold":
            maint, serviced, rs = "", ("other" if rng.random() < 0.5 else ""), ["vehicle_sold"]
        elif truth == "stopped":
            maint = "never" if rng.random() < 0.5 else "irregular"
            serviced, rs = dest, reasons
        else:
            maint = "regular" if rng.random() < 0.6 else "irregular"
            serviced, rs = dest, reasons
        if truth not in ("not_due", "sold", "insurer") and rng.random() < 0.06:
            rs = rs + ["other"] if rs and "other" not in rs else ["other"]
        if truth == "sibling" and self.siblings_names and rng.random() < 0.5:
            tmpl = cat.COMMENTS["group"][self.rr(2)]
            sib = v.move_to if v.move_to >= 0 else self.st.siblings[0]
            comment = tmpl.format(sibling=self.ctx.stores[sib].name)
        else:
            key = "not_due" if truth == "not_due" else (rs[0] if rs else "other")
            opts = cat.COMMENTS.get(key, cat.COMMENTS["other"])
            comment = opts[self.rr(len(opts))] if rng.random() < 0.85 else ""
        booked = rng.random() < BOOK_P.get(truth, 0.1)
        mileage = "" if km is None or rng.random() < 0.2 else str(int(round(km, -2)))
        self.surveys.append([t, sec, v.owner.cid, v.vin, method, True, mileage, maint, serviced, rs, comment, booked])
        return True, booked

    def _lapse_reasons(self, ltype: str) -> tuple[str, list[str]]:
        """Where the owner went and why, fixed per lapse (so repeated calls agree)."""
        rng = self.rng
        if ltype == "competitor":
            dest = pick(rng, _DEST)
            pairs = [(r, w * (2.5 if r == self.st.weakness else 1.0)) for r, w in COMPETITOR_REASONS]
            c = _cum(pairs)
            rs = [pick(rng, c)]
            if rng.random() < 0.3:
                r2 = pick(rng, c)
                if r2 not in rs:
                    rs.append(r2)
            return dest, rs
        if ltype == "sibling":
            return "other_same_brand_4s", ["distance"] if rng.random() < 0.6 else ["moved"]
        if ltype == "moved":
            r = rng.random()
            dest = "other_same_brand_4s" if r < 0.6 else "other" if r < 0.8 else "none"
            return dest, ["moved", "distance"] if rng.random() < 0.3 else ["moved"]
        if ltype == "stopped":
            dest = "none" if rng.random() < 0.7 else "independent_shop"
            return dest, [("price", "other", "distance")[self.rr(3)]]
        if ltype == "insurer":
            r = rng.random()
            return ("independent_shop" if r < 0.5 else "other_brand_4s" if r < 0.8 else "chain_shop"), ["insurer_assigned"]
        return "", []

    # ------------------------------------------------------ one vehicle
    def _run_vehicle(self, v: Veh) -> None:  # noqa: C901 - one event loop, kept together
        rng = self.rng
        rand = rng.random
        S, E = self.S, self.E
        st, brand = self.st, self.brand
        self.v = v
        P = v.purchase
        self.km_day, self.km_base = P, float(v.km0)
        warranty_end = add_years(P, WARRANTY_YEARS)
        age_at = lambda t: (t - P) / YEAR  # noqa: E731
        has_car = True
        active = True
        ltype = ""
        dest, reasons = "", []
        return_day = BIG
        lapse_evt, ltype_planned = v.lapse_day, v.lapse_type
        free_first = False
        registered = False
        last_visit: int | None = None
        last_maint, last_maint_km = P, v.km0
        next_acc = BIG
        surveys_reached = 0

        if v.inbound:
            t0 = v.arrival
            lapse_evt = _lapse_draw(rng, t0 + 60, P, v.loyalty, E)
            ltype_planned = _lapse_type(rng, age_at(lapse_evt) if lapse_evt < BIG else 0, False)
            cid, seq = self._new_cid()
            v.owner = v.owner.copy_for(cid, seq)
            self.owners.append(v.owner)
            v.advisor = self.rr(64)
            last_maint = max(P, t0 - int(self._interval(v)))
            last_maint_km = self._km(last_maint)
            next_maint = t0
        elif P < S:
            t0 = S
            registered = True
            self._register(S, 3600 + v.key[1] % 3600, extract=True)
            if lapse_evt < S:
                active = False
                ltype = ltype_planned
                dest, reasons = self._lapse_reasons(ltype)
                last_visit = max(P, lapse_evt - self.ri(0, int(self.im_days)))
                if ltype == "sold":
                    has_car = False
                if rand() < RETURN_P.get(ltype, 0.0):
                    rd = lapse_evt + self.ri(150, 700)
                    return_day = rd if rd >= S else BIG
                lapse_evt = BIG
                next_maint = BIG
            else:
                last_maint = max(P, S - int(rand() * self._interval(v)))
                last_maint_km = self._km(last_maint)
                last_visit = last_maint
                free_first = brand.free_first_maintenance and last_maint == P
                next_maint = max(S + self.ri(0, 20), self._next_maint(v, last_maint))
        else:
            t0 = P
            next_maint = self._next_maint(v, P)
            free_first = brand.free_first_maintenance
            if v.sold_by_store:
                registered = True
                sale_sec = self.ri(36000, 64800)
                self._register(P, max(28800, sale_sec - 7800))  # the DMS record precedes the PDI order
                last_visit = P
                if rand() < 0.8:
                    lines = [self._labor(cat.PDI_LABOR)]
                    if rand() < 0.3:
                        lines.append(self._part(cat.MAINT_MATERIALS[1][0], 1.0))
                    self._ro(P, "internal", "internal", lines, v.km0, sec=max(30600, sale_sec - 7200))
                if rand() < 0.35:
                    next_acc = P + self.ri(0, 14)

        # event clocks
        next_repair = self._exp(t0, REPAIR_RATE[min(int(age_at(t0)), 6)])
        next_warr = self._exp(t0, WARRANTY_RATE) if t0 < warranty_end else BIG
        if next_acc == BIG:
            next_acc = self._exp(t0, ACCESSORY_RATE)
        next_scratch = self._exp(t0, SCRATCH_RATE)
        next_accident = self._exp(t0, ACCIDENT_RATE)
        next_resale = self._exp(max(t0, warranty_end), RESALE_RATE) if ltype_planned != "sibling" else BIG
        next_survey = self._campaign(add_months(last_visit, 6)) if registered and last_visit is not None else BIG
        recalls = [c for c in self.ctx.recalls[brand.key] if c[1] == v.model.name and c[2] <= v.model_year <= c[3] and c[0] >= t0]
        next_recall = recalls[0][0] + int(rng.expovariate(1 / 35.0)) if recalls else BIG

        # insurance: the policy in force and the next renewal
        pol_comm, pol_comp, pol_ins, pol_end, pol_here = "", "", v.insurer, 0, False
        last_claim = -BIG
        if v.inbound:
            k = 1
            while add_years(P, k) + v.pol_shift <= t0:
                k += 1
            next_policy = add_years(P, k) + v.pol_shift
            pol_comm, pol_comp = self._policy_pair(0, add_years(P, k - 1), pol_ins, False, False, True, False, False)
            pol_end = next_policy - 1
        elif has_car:
            k = 0
            while (add_years(P, k + 1) + v.pol_shift) <= S:
                k += 1
            start = P if k == 0 else add_years(P, k) + v.pol_shift
            if P < S:  # the policy in force on the first day, in the initial extract
                here_p = (0.85 if v.sold_by_store else 0.05) if k == 0 else (v.ins_loyal if active else 0.1)
                pol_here = rand() < here_p
                present = pol_here or rand() < 0.55
                renewal = k > 0 and (rand() < 0.85 if pol_here else rand() < 0.6)
                pol_comm, pol_comp = self._policy_pair(S, start, pol_ins, pol_here, renewal, rand() < 0.95, present, False)
            else:
                pol_here = v.sold_by_store and rand() < 0.85
                present = pol_here or (registered and rand() < 0.55)
                pol_comm, pol_comp = self._policy_pair(P, P, pol_ins, pol_here, False, rand() < 0.95, present, False)
            pol_end = add_years(start, 1) - 1
            next_policy = pol_end + 1 + (0 if rand() < 0.9 else self.ri(1, 7) if rand() < 0.7 else self.ri(8, 90))
        else:
            next_policy = BIG

        while True:
            # the earliest event (ties: the order below)
            t, ev = next_maint, _MAINT
            if next_repair < t:
                t, ev = next_repair, _REPAIR
            if next_warr < t:
                t, ev = next_warr, _WARR
            if next_acc < t:
                t, ev = next_acc, _ACC
            if next_scratch < t:
                t, ev = next_scratch, _SCRATCH
            if next_accident < t:
                t, ev = next_accident, _ACCIDENT
            if next_policy < t:
                t, ev = next_policy, _POLICY
            if next_survey < t:
                t, ev = next_survey, _SURVEY
            if next_recall < t:
                t, ev = next_recall, _RECALL
            if next_resale < t:
                t, ev = next_resale, _RESALE
            if lapse_evt < t:
                t, ev = lapse_evt, _LAPSE
            if return_day < t:
                t, ev = return_day, _RETURN
            if t > E:
                break
            visited = False

            if ev == _MAINT:
                if not registered:
                    registered = True
                    self._register(t, self.ri(28800, 30500))
                km = self._km(t)
                payer = "warranty" if free_first and t - P < 240 else "customer"
                free_first = False
                self._ro(t, "maintenance", payer, self._maint_lines(km, last_maint_km), km)
                if rand() < 0.07:
                    self._ro(t, "repair", "customer", self._job_lines(cat.REPAIR_JOBS, 1), km)
                last_maint, last_maint_km = t, km
                next_maint = self._next_maint(v, t)
                visited = True
            elif ev == _REPAIR:
                next_repair = self._exp(t, REPAIR_RATE[min(int(age_at(t)), 6)])
                if active and registered:
                    km = self._km(t)
                    n = 1 if rand() < 0.7 else 2 if rand() < 0.85 else 3
                    _, close, status = self._ro(t, "repair", "customer", self._job_lines(cat.REPAIR_JOBS, n), km,
                                                multi_p=0.3, multi_days=(1, 4), cancel_p=0.03)
                    if status == "closed":
                        visited = True
                        if rand() < 0.04 and close + 1 <= E:
                            rw = close + self.ri(1, 7)
                            self._ro(rw, "repair", "internal", [self._labor(cat.REWORK_LABOR)], self._km(rw))
            elif ev == _WARR:
                if t >= warranty_end:
                    next_warr = BIG
                    continue
                next_warr = self._exp(t, WARRANTY_RATE)
                if registered and has_car and (active or (ltype != "sibling" and rand() < 0.25)):
                    self._ro(t, "warranty", "warranty", self._job_lines(cat.WARRANTY_JOBS, 1), self._km(t),
                             multi_p=0.35, multi_days=(1, 10))
                    visited = True
            elif ev == _ACC:
                next_acc = self._exp(t, ACCESSORY_RATE)
                if active and registered:
                    _, _, status = self._ro(t, "accessory", "customer", self._accessory_lines(), self._km(t),
                                            multi_p=0.1, multi_days=(1, 2), cancel_p=0.03)
                    visited = status == "closed"
            elif ev == _SCRATCH:
                next_scratch = self._exp(t, SCRATCH_RATE)
                if active and registered:
                    _, _, status = self._ro(t, "bodywork", "customer", self._body_lines(self.ri(1, 2), 0.1),
                                            self._km(t), multi_p=0.5, multi_days=(1, 3), cancel_p=0.04)
                    visited = status == "closed"
            elif ev == _ACCIDENT:
                next_accident = self._exp(t, ACCIDENT_RATE)
                if not has_car or (ltype == "sibling" and not active):
                    continue
                report = t + self.ri(0, 2)
                if t > pol_end or not pol_comm:
                    if active and registered and rand() < 0.5:
                        self._ro(report, "bodywork", "customer", self._body_lines(1, 0.1), self._km(report),
                                 multi_p=0.5, multi_days=(1, 3))
                        visited = report
                    continue_claim = False
                else:
                    continue_claim = True
            if ev == _ACCIDENT and continue_claim:
                last_claim = t
                if active:
                    here = rand() < (0.85 if pol_here else 0.55)
                else:
                    here = rand() < (0.3 if pol_here else 0.08)
                here = here and registered
                self.claim_seq += 1
                ins_code = cat.INSURERS[pol_ins][1]
                claim_no = f"{ins_code}C{date.fromordinal(t).strftime('%Y%m%d')}{st.num:03d}{self.claim_seq:05d}"
                visible = pol_here or here
                if here:
                    ro_day = report + self.ri(0, 2)
                    n = 1 + min(3, int(rng.expovariate(0.9)))
                    total, close, _ = self._ro(ro_day, "bodywork", "insurance", self._body_lines(n, 0.45),
                                               self._km(ro_day), multi_p=0.85, multi_days=(2, 12), claim_no=claim_no)
                    settle = close + self.ri(3, 25)
                    est = int(total * rng.uniform(0.85, 1.1))
                    self._claim_rows(claim_no, pol_comm, pol_ins, t, report, st.code, est, settle, "settled", total)
                    visited = ro_day
                    if not active and has_car and ltype in ("competitor", "stopped", "insurer") and rand() < 0.3:
                        return_day = min(return_day, close + self.ri(15, 120))
                else:
                    assigned = "" if rand() < 0.4 else cat.OUTSIDE_SHOPS[self.rr(len(cat.OUTSIDE_SHOPS))]
                    amount = int(v.model.value_k * 1000 * rng.uniform(0.01, 0.12)) * 100
                    final = "rejected" if rand() < 0.05 else "settled"
                    if visible:
                        settle = report + self.ri(10, 60)
                        self._claim_rows(claim_no, pol_comm, pol_ins, t, report, assigned, amount, settle,
                                         final, amount if final == "settled" else 0)
                    if active and final == "settled" and rand() < 0.35:
                        active = False
                        ltype = "insurer"
                        dest, reasons = self._lapse_reasons(ltype)
                        next_maint = BIG
                        return_day = t + self.ri(180, 420) if rand() < RETURN_P["insurer"] else BIG
            elif ev == _POLICY:
                if not has_car or (ltype == "sibling" and not active):
                    next_policy = BIG
                    continue
                start = t
                if active:
                    here_p = v.ins_loyal
                elif ltype == "insurer":
                    here_p = 0.15
                else:
                    here_p = 0.1
                here = registered and rand() < here_p
                prev_ins = pol_ins
                if rand() > 0.7:
                    pol_ins = pick(rng, _INSURERS)
                renewal = (pol_here and here) or (not here and pol_ins == prev_ins)
                if here:
                    issue = max(S, start - self.ri(0, 30))
                else:
                    issue = max(S, start - self.ri(0, 5))
                present = here or (registered and rand() < 0.55)
                pol_comm, pol_comp = self._policy_pair(issue, start, pol_ins, here, renewal, rand() < 0.95,
                                                       present, t - last_claim < 365)
                pol_here = here
                pol_end = add_years(start, 1) - 1
                r = rand()
                next_policy = pol_end + 1 + (0 if r < 0.85 else self.ri(1, 7) if r < 0.95 else self.ri(8, 90))
            elif ev == _SURVEY:
                elig = add_months(last_visit, 6) if last_visit is not None else BIG
                if t < elig:
                    next_survey = self._campaign(elig)
                    continue
                if t > add_months(last_visit, 36) or surveys_reached >= 3:
                    next_survey = BIG
                    continue
                if rand() < 0.3:
                    truth = "not_due" if active else ltype
                    km = self._km(t) if has_car else None
                    reached, booked = self._survey(t, truth, km, dest, reasons)
                    if reached:
                        surveys_reached += 1
                        next_survey = self._campaign(t + 150) if truth != "sold" else BIG
                        if booked:
                            if active:
                                next_maint = min(next_maint, t + self.ri(3, 30))
                            elif has_car and ltype in ("competitor", "stopped", "insurer") and rand() < SHOW_P:
                                return_day = min(return_day, t + self.ri(3, 89))
                    else:
                        next_survey = self._campaign(t + 20)
                else:
                    next_survey = self._campaign(t + 20)
            elif ev == _RECALL:
                camp = recalls.pop(0)
                next_recall = recalls[0][0] + int(rng.expovariate(1 / 35.0)) if recalls else BIG
                if has_car and registered and ltype != "sibling" and (active or rand() < 0.35):
                    job = camp[4]
                    lines = [self._labor((job[0], job[1], job[2], job[3]))]
                    for spec in job[4]:
                        lines.append(self._part(spec, self._pf()))
                    self._ro(t, "recall", "warranty", lines, self._km(t))
                    visited = True
                    if active and next_maint - t < 45:
                        next_maint = t
            elif ev == _RESALE:
                next_resale = self._exp(t, RESALE_RATE)
                if active and has_car and registered:
                    km_now = self._km(t)
                    cid, seq = self._new_cid()
                    o = new_owner(rng, st, self.ctx, "individual", t, cid, seq)
                    self.owners.append(o)
                    v.owner = o
                    self.km_day, self.km_base = t, float(km_now)
                    v.daily_km = private_daily_km(rng)
                    v.advisor = self.rr(64)
                    sec = self.ri(32400, 64800)
                    o.reg_day, o.reg_sec = t, sec
                    self._vehicle_row(t, sec)
                    next_maint = max(t + 7, self._next_maint(v, last_maint))
            elif ev == _LAPSE:
                lapse_evt = BIG
                ltype = ltype_planned
                dest, reasons = self._lapse_reasons(ltype)
                active = False
                next_maint = BIG
                return_day = BIG
                if ltype == "sold":
                    has_car = False
                elif rand() < RETURN_P.get(ltype, 0.0):
                    return_day = t + self.ri(150, 540)
            elif ev == _RETURN:
                return_day = BIG
                if has_car and not active:
                    active = True
                    ltype = ""
                    next_maint = t
                    if lapse_evt == BIG:
                        lapse_evt = _lapse_draw(rng, t + 90, P, v.loyalty * 1.3, E)
                        if lapse_evt < BIG:
                            ltype_planned = _lapse_type(rng, age_at(lapse_evt), False)
            if visited is not False:
                vd = t if visited is True else visited
                last_visit = vd if last_visit is None or vd > last_visit else last_visit
                next_survey = self._campaign(add_months(last_visit, 6))

    # ------------------------------------------------------------ the run
    def run(self, after_vehicle=None) -> None:
        """Simulate every vehicle; `after_vehicle(v, first_ro)` is called after
        each, `first_ro` indexing its first repair order in self.ros (the demo's
        campaigns, sources/demo_campaigns.py, act there)."""
        for v in (*self.vehicles, *self.inbound):
            first_ro = len(self.ros)
            self._run_vehicle(v)
            if after_vehicle is not None:
                after_vehicle(v, first_ro)
        self._customer_rows()
        self._flush_ros()
        self._flush_surveys()

    def _flush_ros(self) -> None:
        S, E = self.S, self.E
        code = self.code
        e_st, e_pay, e_ro, e_lt = self.enum["service_type"], self.enum["payer"], self.enum["ro_status"], self.enum["line_type"]
        ro_b, line_b = self.buckets[T_RO], self.buckets[T_LINE]
        self.ros.sort(key=lambda r: (r[0], r[1], r[2]))
        prev, n = -1, 0
        for (day, sec, _, vin, cid, km, stype, payer, lines, open_k, close_day, close_sec, status,
             other, disc, adv, claim_no) in self.ros:
            if day > E:
                continue
            if day != prev:
                prev, n = day, 0
            n += 1
            ro_no = f"RO{code}{self._yymmdd[day - S]}{n:03d}"
            opened = self.ts(day, sec)
            kms = "" if km is None else str(km)
            versions = []
            if close_day != day or status != "closed":
                versions.append((day, opened, "", "open", open_k, 0, 0))
            if close_day <= E:
                if status == "closed":
                    closed = self.ts(close_day, close_sec)
                    versions.append((close_day, closed, closed, "closed", len(lines), other, disc))
                else:
                    versions.append((close_day, self.ts(close_day, close_sec), "", status, open_k, 0, 0))
            for vday, upd, closed_at, vstatus, k, oth, dsc in versions:
                labor = parts = cost = 0
                lb = line_b[vday - S]
                for i in range(k):
                    lt, icode, desc, qty, hrs, unit_s, amt, amt_s, c, c_s = lines[i]
                    if lt == "labor":
                        labor += amt
                    else:
                        parts += amt
                        cost += c
                    lb.append([ro_no, code, _LINE_NOS[i], e_lt[lt], icode, desc, qty, hrs, unit_s, amt_s, c_s, upd])
                ro_b[vday - S].append([ro_no, code, cid, vin, opened, closed_at, kms, e_st[stype], e_pay[payer],
                                       cents(labor), cents(parts), cents(oth), cents(dsc),
                                       cents(labor + parts + oth - dsc), cents(cost), adv, e_ro[vstatus], claim_no, upd])
        self.ros = []

    def _flush_surveys(self) -> None:
        e = self.enum
        self.surveys.sort(key=lambda r: (r[0], r[1]))
        for n, (day, sec, cid, vin, method, reached, km, maint, serviced, rs, comment, booked) in enumerate(self.surveys, 1):
            at = self.ts(day, sec)
            self.emit(T_SURV, day, [
                f"HF{self.code}{n:06d}", self.code, cid, vin, at, e["survey_method"][method], self.flag(reached), km,
                e["maintains_regularly"][maint] if maint else "", e["serviced_at"][serviced] if serviced else "",
                ";".join(e["reason"][r] for r in rs), comment, self.flag(booked), at,
            ])
        self.surveys = []
