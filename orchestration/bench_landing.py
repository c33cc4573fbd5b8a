"""The bench's landing and the deliveries it plays: a demo landing kept per
parameter set, and the landing as it stands before each measured run (files
are hard links into the kept landing; a corrected file is written anew)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from orchestration.progress import LiveProgress
from sources import contract

MARKER = "landing.json"  # written once the landing is complete


@dataclass(frozen=True)
class BenchLanding:
    path: Path
    files: int
    mib: float
    rows: dict[str, int]  # raw table -> rows written (every delivered version)
    first_drop: str
    last_drop: str
    history_start: str
    generation_seconds: float

    def describe(self) -> dict:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in self.__dict__.items()}


def cached_landing(workdir: Path, params: dict, progress: LiveProgress) -> BenchLanding:
    """The demo landing for these parameters, generated the first time."""
    from sources.demo import generate_landing

    path, marker = workdir / "landing", workdir / MARKER
    if marker.is_file() and path.is_dir():
        return BenchLanding(path=path, **json.loads(marker.read_text(encoding="utf-8")))
    marker.unlink(missing_ok=True)
    workdir.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(path, ignore_errors=True)
    progress.print(f"generating the landing {path} (once for these parameters)")
    progress.phase("generating the landing")
    summary = generate_landing(path, seed=params["seed"], stores=params["stores"], years=params["years"],
                               vehicles_per_store=params["vehicles_per_store"], daily_days=params["daily_days"],
                               progress=lambda done, stores: progress.update(
                                   f"generating the landing: {done}/{stores} stores written"))
    csvs = list(path.rglob("*.csv"))
    landing = BenchLanding(
        path=path,
        files=len(csvs),
        mib=sum(p.stat().st_size for p in csvs) / 2**20,
        rows=summary.rows,
        first_drop=summary.first_drop.isoformat(),
        last_drop=summary.last_drop.isoformat(),
        history_start=summary.history_start.isoformat(),
        generation_seconds=summary.seconds,
    )
    progress.print(f"generated in {summary.seconds:.0f} s")
    fields = landing.describe()
    del fields["path"]
    marker.write_text(json.dumps(fields, indent=2), encoding="utf-8")
    return landing


@dataclass(frozen=True)
class Plan:
    last_day: str
    before_last_day: str
    held_store: str  # this store's drops of held_day arrive late
    held_day: str
    corrected_day: str  # an earlier daily drop re-delivered corrected

    @property
    def held_back_label(self) -> str:
        return f"{self.held_store}'s drops of {self.held_day}"


def plan(landing: Path) -> Plan:
    days = sorted({p.name for p in landing.glob("dms/*/*")})
    daily = len(days) - 1  # after the history extract
    if daily < 3:
        raise SystemExit("the bench needs at least 3 daily drops after the history extract (--daily-days)")
    last = date.fromisoformat(days[-1])
    stores = sorted(p.name for p in (landing / "dms").iterdir())
    return Plan(
        last_day=days[-1],
        before_last_day=(last - timedelta(days=1)).isoformat(),
        held_store=stores[0],
        held_day=(last - timedelta(days=max(1, daily // 3))).isoformat(),
        corrected_day=(last - timedelta(days=max(2, 2 * daily // 3))).isoformat(),
    )


def _link_drops(landing: Path, running: Path, wanted) -> None:
    """Hard-link every file of the landing whose drop `wanted(store, day)`
    accepts (files outside drop folders always) into `running`."""
    for folder, _, names in os.walk(landing):
        rel = Path(folder).relative_to(landing)
        if len(rel.parts) == 3 and not wanted(rel.parts[1], rel.parts[2]):
            continue
        target = running / rel
        target.mkdir(parents=True, exist_ok=True)
        for name in names:
            if not (target / name).exists():
                os.link(Path(folder) / name, target / name)


def stage_before_last_day(landing: Path, running: Path, p: Plan) -> None:
    shutil.rmtree(running, ignore_errors=True)
    _link_drops(landing, running,
                lambda store, day: day != p.last_day and (store, day) != (p.held_store, p.held_day))


def deliver_last_day(landing: Path, running: Path, p: Plan) -> None:
    _link_drops(landing, running, lambda store, day: day == p.last_day)


def deliver_late_and_corrected(landing: Path, running: Path, p: Plan) -> str:
    """The held-back drops arrive; one closed customer-paid repair order of an
    earlier daily drop is re-delivered with 10.00 more in other_amount and
    total_amount. Returns what was corrected."""
    _link_drops(landing, running, lambda store, day: (store, day) == (p.held_store, p.held_day))
    for store_dir in sorted((running / "dms").iterdir()):
        path = store_dir / p.corrected_day / contract.REPAIR_ORDERS.file_name
        if path.is_file():
            ro_number = _correct_one_repair_order(path)
            if ro_number:
                return f"{store_dir.name}'s repair orders of {p.corrected_day} re-delivered, {ro_number} +10.00"
    raise SystemExit(f"no closed customer-paid repair order in the drops of {p.corrected_day} to correct")


def _correct_one_repair_order(path: Path) -> str | None:
    raw = path.read_bytes()
    encoding = "utf-8-sig" if raw.startswith(b"\xef\xbb\xbf") else "utf-8"
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        encoding, text = "gb18030", raw.decode("gb18030")
    newline = "\r\n" if b"\r\n" in raw else "\n"
    header, *rows = list(csv.reader(io.StringIO(text)))
    names = {c.zh: c.name for c in contract.REPAIR_ORDERS.columns} | {c: c for c in contract.REPAIR_ORDERS.column_names}
    col = {names[h]: i for i, h in enumerate(header)}
    closed = contract.ENUMERATIONS["ro_status"]["closed"]
    customer = contract.ENUMERATIONS["payer"]["customer"]
    for r in rows:
        if r[col["status"]] in ("closed", closed) and r[col["payer"]] in ("customer", customer):
            for c in ("other_amount", "total_amount"):
                r[col[c]] = str(Decimal(r[col[c]]) + Decimal("10.00"))
            out = io.StringIO()
            csv.writer(out, lineterminator=newline).writerows([header, *rows])
            path.unlink()  # a hard link into the kept landing: write a new file
            path.write_bytes(out.getvalue().encode(encoding))
            return r[col["ro_number"]]
    return None
