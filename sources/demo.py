"""Demo data: a dealer group's landing tree (SPEC section 3), simulated.

`generate_landing(out_dir, ...)` writes `<out>/reference/stores.csv` and, per
store and source, drop folders as a real store delivers them:

    dms/<store>/<YYYY-MM-DD>/{customers,vehicles,repair_orders,repair_order_lines}.csv
    insurance/<store>/<YYYY-MM-DD>/{policies,claims}.csv
    survey/<store>/<YYYY-MM-DD>/responses.csv
    crm/<store>/<YYYY-MM-DD>/{campaigns,campaign_contacts}.csv

The simulation covers `years` years ending at `end_date`. A store's first drop
is its history extract, dated `daily_days` days before `end_date`: every row
of the window up to that date, one version per key (the latest `updated_at`,
SPEC section 3), so it holds years of repair orders. The last `daily_days`
days follow as daily deltas: the rows created or changed that day (their
`updated_at` falls on the folder's date). No row's `updated_at` is after its
drop's date. Every store sends dms, insurance and survey every day after the
extract, so a day without rows is a header-only file, never a missing folder;
crm drops come only on days with campaign rows, and a store that runs no
campaign sends none. With
`daily_days` at least the window's length less one, every day is a daily drop
(no extract); the first day then carries each DMS's initial master data.

What is simulated (sources/demo_sim.py): vehicles with owners, daily mileage
and their brand's service interval come for maintenance when due, have
repairs, warranty work in their first three years, recalls, accessories,
accidents with insurance claims and bodywork, renew their insurance at the
store or elsewhere, change hands, lapse (competitor, moved, sold, stopped,
moved to a sibling store of the same brand, sent elsewhere by the insurer),
are called by the store after six months without a visit, and some come back.
Some stores run win-back campaigns with an effect the generator knows
(sources/demo_campaigns.py), recorded in `demo_truth.json` at the landing
root, beside the landing's folders (not part of the landing contract).

Per-store file conventions (to exercise the reader):
  * most stores: UTF-8, English headers and enumerations, flags Y/N (every
    fourth store from the third: flags 1/0), LF line ends;
  * the 2nd store: UTF-8 with BOM, CRLF;
  * the last store: GB18030, Chinese headers, Chinese enumeration labels,
    flags 是/否, DATE columns as YYYY/MM/DD (timestamps stay
    YYYY-MM-DD HH:MM:SS), CRLF;
  * reference/stores.csv: UTF-8, English headers.

Deterministic: the same arguments give a byte-identical tree.
"""

from __future__ import annotations

import argparse
import csv
import io
import multiprocessing
import os
import queue
import shutil
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from operator import itemgetter
from pathlib import Path

from sources import demo_campaigns as campaigns
from sources import demo_sim as sim
from sources.contract import (
    CLAIMS,
    CRM_CAMPAIGN_CONTACTS,
    CRM_CAMPAIGNS,
    CUSTOMERS,
    POLICIES,
    REPAIR_ORDER_LINES,
    REPAIR_ORDERS,
    STORES,
    SURVEY_RESPONSES,
    VEHICLES,
    LandingTable,
)

DEFAULT_END_DATE = date(2026, 11, 20)
# Daily drops after each store's history extract: a month of daily runs to
# look at, few enough files that the demo stays quick to write and load.
DEFAULT_DAILY_DAYS = 30
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "var" / "demo_landing"

# Landing tables in the simulation's bucket order (demo_sim.T_*).
_SIM_TABLES: tuple[LandingTable, ...] = (
    CUSTOMERS, VEHICLES, REPAIR_ORDERS, REPAIR_ORDER_LINES, POLICIES, CLAIMS, SURVEY_RESPONSES,
    CRM_CAMPAIGNS, CRM_CAMPAIGN_CONTACTS,
)
# One folder per source and day, with its files in this order.
_SOURCES: tuple[tuple[str, tuple[int, ...]], ...] = (
    ("dms", (sim.T_CUST, sim.T_VEH, sim.T_RO, sim.T_LINE)),
    ("insurance", (sim.T_POL, sim.T_CLAIM)),
    ("survey", (sim.T_SURV,)),
    ("crm", (sim.T_CAMP, sim.T_CONTACT)),
)
# Sources a store sends only on days it has rows for (a CRM is no daily export).
_SPARSE_SOURCES = {"crm"}
# Written at the landing root: this tree is made-up demo data, so the public
# demo pseudonym key may be used with it (orchestration/settings.py).
DEMO_MARKER = ".aftersales-demo"
_TREE_ENTRIES = {"reference", "dms", "insurance", "survey", "crm", DEMO_MARKER, campaigns.TRUTH_FILE}

# Service intervals by brand, for the warehouse's brand thresholds seed.
BRAND_SERVICE_INTERVALS = {
    b.name: {"service_interval_km": b.interval_km, "service_interval_months": b.interval_months}
    for b in sim.cat.BRANDS.values()
}


@dataclass(frozen=True)
class DemoSummary:
    out_dir: Path
    seed: int
    stores: tuple[str, ...]
    first_drop: date  # the history extract's date (the first daily drop's when there is no extract)
    last_drop: date
    files_written: int
    rows: dict[str, int]  # raw table name -> data rows written (every delivered version)
    encodings: dict[str, str] = field(default_factory=dict)  # store_code -> file convention
    history_start: date | None = None  # first simulated day; before first_drop when there is a history extract
    seconds: float = field(default=0.0, compare=False)

    def describe(self) -> str:
        r = self.rows
        days = (self.last_drop - self.first_drop).days + 1
        if self.history_start and self.history_start < self.first_drop:
            drops = (f"a history extract per store dated {self.first_drop} (everything since {self.history_start}), "
                     f"then {days - 1} daily drops to {self.last_drop}")
        else:
            drops = f"{days} daily drops {self.first_drop}..{self.last_drop}"
        by_conv: dict[str, list[str]] = {}
        for code, c in self.encodings.items():
            if c != _PLAIN:
                by_conv.setdefault(c, []).append(code)
        conv = "; ".join(
            f"{', '.join(codes) if len(codes) <= 3 else f'{len(codes)} stores ({codes[0]}, {codes[1]}, ...)'}: {c}"
            for c, codes in by_conv.items()
        )
        return (
            f"Demo landing written to {self.out_dir}: {len(self.stores)} stores "
            f"({self.stores[0]}..{self.stores[-1]}), {drops}, "
            f"{self.files_written} files (seed {self.seed}). Rows: customers {r['dms_customers']}, "
            f"vehicles {r['dms_vehicles']}, repair orders {r['dms_repair_orders']} "
            f"({r['dms_repair_order_lines']} lines), policies {r['insurance_policies']}, "
            f"claims {r['insurance_claims']}, survey responses {r['survey_responses']}, "
            f"campaign versions {r['crm_campaigns']} ({r['crm_campaign_contacts']} contacts). "
            f"Other than {_PLAIN}: {conv or 'none'}. Took {self.seconds:.1f} s."
        )


_PLAIN = "UTF-8, English headers, flags Y/N"


def window(end_date: date, years: int) -> tuple[date, date]:
    """First and last day of the simulated history: `years` whole years ending at end_date."""
    try:
        start = end_date.replace(year=end_date.year - years)
    except ValueError:  # 29 February
        start = end_date.replace(year=end_date.year - years, day=28)
    return start + timedelta(days=1), end_date


def _convention(st: sim.StoreCfg) -> str:
    enc = {"utf-8": "UTF-8", "utf-8-sig": "UTF-8 with BOM", "gb18030": "GB18030"}[st.encoding]
    lang = "Chinese headers and labels" if st.chinese else "English headers"
    dates = ", dates YYYY/MM/DD" if st.slash_dates else ""
    return f"{enc}, {lang}, flags {st.flags[0]}/{st.flags[1]}{dates}"


class _Writer:
    """Writes (folder, files) jobs on a few threads: creating many small files
    is dominated by the file system, which runs beside the simulation."""

    def __init__(self, threads: int = 1):
        self.q: queue.Queue = queue.Queue(maxsize=2048)
        self.errors: list[BaseException] = []
        self.threads = [threading.Thread(target=self._work, daemon=True) for _ in range(threads)]
        for t in self.threads:
            t.start()

    def _work(self) -> None:
        while True:
            job = self.q.get()
            if job is None:
                return
            folder, files = job
            try:
                os.makedirs(folder, exist_ok=True)
                for name, data in files:
                    with open(os.path.join(folder, name), "wb") as f:
                        f.write(data)
            except BaseException as e:  # surfaced by close()
                self.errors.append(e)

    def put(self, folder: str, files: list[tuple[str, bytes]]) -> None:
        if self.errors:
            raise self.errors[0]
        self.q.put((folder, files))

    def close(self) -> None:
        for _ in self.threads:
            self.q.put(None)
        for t in self.threads:
            t.join()
        if self.errors:
            raise self.errors[0]


def is_demo_landing(landing: Path) -> bool:
    """The landing was written by the demo generator."""
    return (Path(landing) / DEMO_MARKER).is_file()


def _prepare_out(out_dir: Path) -> None:
    if out_dir.exists():
        if not out_dir.is_dir():
            raise FileExistsError(f"{out_dir} exists and is not a folder")
        entries = sorted(p.name for p in out_dir.iterdir())
        foreign = [e for e in entries if e not in _TREE_ENTRIES]
        if foreign:
            raise FileExistsError(
                f"{out_dir} holds files that are not a demo landing tree ({', '.join(foreign[:5])}); "
                "choose an empty or new folder"
            )
        for e in entries:  # an earlier demo tree: replace it whole
            path = out_dir / e
            if path.is_dir():
                shutil.rmtree(path)
            else:  # the demo marker
                path.unlink()
    out_dir.mkdir(parents=True, exist_ok=True)


def _write_reference(out_dir: Path, ctx: sim.Ctx) -> None:
    ref = out_dir / STORES.source
    ref.mkdir(parents=True, exist_ok=True)
    with open(ref / STORES.file_name, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(STORES.column_names)
        for st in ctx.stores:
            w.writerow([st.code, st.name, st.brand.name, st.city.name, st.city.province, st.city.region,
                        st.opened_on.isoformat()])


def _table_file(rows: list[list[str]], headers: list[str], nl: str, enc: str) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator=nl)
    w.writerow(headers)
    w.writerows(rows)
    return buf.getvalue().encode(enc)


def _latest_versions(days: list[list[list[str]] | None], key_cols: tuple[int, ...]) -> list[list[str]]:
    """The latest version of each key over several days' rows (SPEC section 3:
    latest updated_at wins, ties to the later drop, then the later line), in
    updated_at order: what a store's DMS exports as its history."""
    latest: dict[tuple[str, ...], list[str]] = {}
    last = itemgetter(-1)
    for rws in days:  # day order, each day in its file's line order
        if rws:
            rws.sort(key=last)
            for r in rws:
                latest[tuple(r[c] for c in key_cols)] = r
    return sorted(latest.values(), key=last)


def _write_store(out_dir: Path, ctx: sim.Ctx, st: sim.StoreCfg, buckets, writer: _Writer, rows: dict[str, int],
                 daily_days: int) -> int:
    """Write one store's drops. Days 0..cut of the window go into one history
    extract dated at the cut (the latest version per key); the last
    `daily_days` days follow as daily deltas. With no day before the cut,
    every day is a daily drop."""
    enc, nl = st.encoding, st.newline
    headers = []
    empty = []
    for t in _SIM_TABLES:
        h = [c.zh for c in t.columns] if st.chinese else t.column_names
        headers.append(h)
        buf = io.StringIO()
        csv.writer(buf, lineterminator=nl).writerow(h)
        empty.append(buf.getvalue().encode(enc))
    names = [t.file_name for t in _SIM_TABLES]
    keys = [tuple(t.column_names.index(k) for k in t.key) for t in _SIM_TABLES]
    counts = [0] * len(_SIM_TABLES)
    last = itemgetter(-1)  # updated_at is every table's last column
    files = 0
    day0 = date.fromordinal(ctx.S)
    cut = max(0, ctx.ndays - 1 - daily_days)
    for i in range(cut, ctx.ndays):
        day = (day0 + timedelta(days=i)).isoformat()
        for source, tables in _SOURCES:
            out: list[tuple[str, bytes]] = []
            day_rows = []
            for t in tables:
                if i == cut and cut > 0:
                    rws = _latest_versions(buckets[t][: cut + 1], keys[t])
                    buckets[t][: cut + 1] = [None] * (cut + 1)
                else:
                    rws = buckets[t][i]
                    buckets[t][i] = None  # free as we go
                    if rws:
                        rws.sort(key=last)
                day_rows.append(rws)
            if source in _SPARSE_SOURCES and not any(day_rows):
                continue
            for t, rws in zip(tables, day_rows):
                if not rws:
                    out.append((names[t], empty[t]))
                    continue
                counts[t] += len(rws)
                out.append((names[t], _table_file(rws, headers[t], nl, enc)))
            writer.put(os.path.join(out_dir, source, st.code, day), out)
            files += len(out)
    for t, n in zip(_SIM_TABLES, counts):
        rows[t.name] += n
    return files


def _movers(params: tuple, idx: int) -> list[tuple[int, sim.Veh]]:
    """Pass 1 for one store: its vehicles that move to a sibling store in the
    window, as (target store index, the vehicle as the sibling receives it)."""
    ctx = sim.build_group(*params)
    vehicles, _ = sim.plan_store(ctx, ctx.stores[idx])
    return [(v.move_to, sim.inbound_copy(v, v.arrival)) for v in vehicles if v.move_to >= 0 and v.arrival <= ctx.E]


def _store(params: tuple, idx: int, inbound: list[sim.Veh], out_dir: str,
           daily_days: int) -> tuple[int, dict[str, int], list[dict]]:
    """Pass 2 for one store: plan again (deterministic), simulate with its
    campaigns, write. Returns the files and rows written and the campaigns' truth."""
    ctx = sim.build_group(*params)
    st = ctx.stores[idx]
    vehicles, owners = sim.plan_store(ctx, st)
    run = sim.StoreSim(ctx, st, vehicles, owners, inbound)
    crm = campaigns.StoreCampaigns(run, campaigns.plan_group(ctx.seed, ctx.stores, ctx.S, ctx.E)[idx])
    run.run(after_vehicle=crm.after_vehicle)
    crm.emit_campaign_rows()
    rows = {t.name: 0 for t in _SIM_TABLES}
    writer = _Writer()
    try:
        files = _write_store(Path(out_dir), ctx, st, run.buckets, writer, rows, daily_days)
    finally:
        writer.close()
    return files, rows, crm.truth()


def _auto_workers(stores: int, vehicles_per_store: int) -> int:
    if stores * vehicles_per_store < 6000 or stores < 2:
        return 1  # starting processes costs more than it saves
    if multiprocessing.current_process().daemon:
        return 1  # a daemonic process may not start children
    return max(1, min(4, os.cpu_count() or 1, stores))


def generate_landing(
    out_dir: Path,
    *,
    seed: int = 7,
    end_date: date = DEFAULT_END_DATE,
    stores: int = 5,
    years: int = 3,
    vehicles_per_store: int = 600,
    daily_days: int = DEFAULT_DAILY_DAYS,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> DemoSummary:
    """Simulate `stores` stores over `years` years ending at `end_date` and
    write the landing tree under `out_dir` (an earlier demo tree there is
    replaced; a folder holding anything else is refused). Each store's
    first drop is a history extract; the last `daily_days` days are daily
    drops (module docstring).

    `workers` processes share the stores (default: one per CPU, at most 4,
    and none for small runs); the output does not depend on it.
    `progress(done, stores)` is called as each store's drops are written."""
    if stores < 1 or years < 1 or vehicles_per_store < 1:
        raise ValueError("stores, years and vehicles_per_store must be at least 1")
    if daily_days < 0:
        raise ValueError("daily_days must be 0 or more")
    if vehicles_per_store >= 100_000:
        raise ValueError("vehicles_per_store must be below 100000")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    first, last = window(end_date, years)
    params = (seed, stores, first.toordinal(), last.toordinal(), vehicles_per_store)
    ctx = sim.build_group(*params)
    _prepare_out(out_dir)
    (out_dir / DEMO_MARKER).write_text(
        f"generated by `aftersales demo`: seed {seed}, {stores} stores, {years} years to {end_date}\n",
        encoding="utf-8",
    )
    _write_reference(out_dir, ctx)
    n_workers = workers if workers is not None else _auto_workers(stores, vehicles_per_store)
    idxs = [st.idx for st in ctx.stores]
    rows = {t.name: 0 for t in _SIM_TABLES}
    files = 1
    pool = (ProcessPoolExecutor(n_workers, mp_context=multiprocessing.get_context("spawn"))
            if n_workers > 1 else None)
    try:
        # Pass 1: who moves to a sibling store, and when. Plans are cheap and
        # deterministic, so pass 2 recomputes them rather than keeping them.
        if pool:
            moved = list(pool.map(_movers, [params] * stores, idxs, chunksize=max(1, stores // (4 * n_workers))))
        else:
            moved = [_movers(params, i) for i in idxs]
        inbound: list[list[sim.Veh]] = [[] for _ in idxs]
        for movers in moved:  # store order, then vehicle order: deterministic
            for target, v in movers:
                inbound[target].append(v)
        del moved
        # Pass 2: simulate and write, one store per task.
        if pool:
            futures = [pool.submit(_store, params, i, inbound[i], str(out_dir), daily_days) for i in idxs]
            results = (f.result() for f in futures)
        else:
            results = (_store(params, i, inbound[i], str(out_dir), daily_days) for i in idxs)
        truth: list[dict] = []
        for done, (n_files, store_rows, store_truth) in enumerate(results, 1):
            files += n_files
            truth += store_truth
            for k, n in store_rows.items():
                rows[k] += n
            if progress:
                progress(done, stores)
    finally:
        if pool:
            pool.shutdown(cancel_futures=True)
    campaigns.write_truth(out_dir, seed, last, truth)
    return DemoSummary(
        out_dir=out_dir,
        seed=seed,
        stores=tuple(st.code for st in ctx.stores),
        first_drop=max(first, last - timedelta(days=daily_days)),
        history_start=first,
        last_drop=last,
        files_written=files,
        rows=rows,
        encodings={st.code: _convention(st) for st in ctx.stores},
        seconds=time.perf_counter() - started,
    )


# --------------------------------------------------------------------- CLI


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of `aftersales demo`."""
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT,
                        help=f"landing root to write (default: {DEFAULT_OUT}); an earlier demo tree there is replaced")
    parser.add_argument("--seed", type=int, default=7, help="random seed (default 7); same seed, same bytes")
    parser.add_argument("--end-date", type=date.fromisoformat, default=DEFAULT_END_DATE,
                        help=f"last business date, YYYY-MM-DD (default {DEFAULT_END_DATE})")
    parser.add_argument("--stores", type=int, default=5, help="number of stores (default 5)")
    parser.add_argument("--years", type=int, default=3, help="years of history ending at --end-date (default 3)")
    parser.add_argument("--daily-days", type=int, default=DEFAULT_DAILY_DAYS,
                        help=f"daily drops after each store's history extract (default {DEFAULT_DAILY_DAYS}); "
                             "the window's length or more: every day a daily drop, no extract")
    parser.add_argument("--vehicles-per-store", type=int, default=600,
                        help="vehicles in each store's own population (default 600)")
    parser.add_argument("--workers", type=int, default=None,
                        help="processes to share the stores (default: per CPU, at most 4); output is the same")


def run_from_args(args: argparse.Namespace) -> int:
    try:
        summary = generate_landing(
            args.out,
            seed=args.seed,
            end_date=args.end_date,
            stores=args.stores,
            years=args.years,
            vehicles_per_store=args.vehicles_per_store,
            daily_days=args.daily_days,
            workers=getattr(args, "workers", None),
        )
    except (ValueError, FileExistsError) as e:
        print(f"aftersales demo: {e}")
        return 2
    print(summary.describe())
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aftersales demo", description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
