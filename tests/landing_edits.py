"""Delivering a generated landing to a running one drop by drop, and
re-delivering corrected files: what tests/test_incremental_builds.py feeds the
pipeline. A drop is a folder `<source>/<store>/<date>/` (SPEC section 3)."""

from __future__ import annotations

import csv
import io
import itertools
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

SOURCES = ("dms", "insurance", "survey")
# Revenue repair orders (SPEC section 7): closed, paid by the customer or an insurer.
REVENUE_PAYERS = ("customer", "insurance")


@dataclass(frozen=True, order=True)
class Drop:
    source: str
    store: str
    date: str  # YYYY-MM-DD, the folder's name


def drops(landing: Path) -> list[Drop]:
    return sorted(
        Drop(source, store.name, day.name)
        for source in SOURCES
        for store in (landing / source).iterdir()
        for day in store.iterdir()
    )


def copy_landing_without(full: Path, running: Path, held_back: Callable[[Drop], bool]) -> None:
    """`running` becomes `full` less the drops `held_back` selects."""
    shutil.copytree(full, running, ignore=lambda folder, names: [
        n for n in names
        if (parts := Path(folder).relative_to(full).parts) and len(parts) == 2
        and held_back(Drop(parts[0], parts[1], n))
    ])


def deliver(full: Path, running: Path, wanted: Callable[[Drop], bool]) -> list[Drop]:
    """Copy the drops `wanted` selects from `full` into `running`."""
    delivered = [d for d in drops(full) if wanted(d) and not (running / d.source / d.store / d.date).exists()]
    for d in delivered:
        shutil.copytree(full / d.source / d.store / d.date, running / d.source / d.store / d.date)
    return delivered


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    """A plain UTF-8, LF file's header and rows (the edited store's convention)."""
    data = path.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf") and b"\r\n" not in data, f"{path}: not plain UTF-8 with LF"
    header, *rows = csv.reader(io.StringIO(data.decode("utf-8")))
    return header, rows


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows([header, *rows])
    path.write_bytes(buf.getvalue().encode("utf-8"))


def rows_by_name(path: Path) -> list[dict[str, str]]:
    header, rows = read_csv(path)
    return [dict(zip(header, row)) for row in rows]


def is_revenue(ro: dict[str, str]) -> bool:
    return ro["status"] == "closed" and ro["payer"] in REVENUE_PAYERS


@dataclass(frozen=True)
class RepairOrderCorrection:
    """A re-delivered repair_orders.csv: one order's labour (and so total)
    raised by `raise_by`, another order removed (with its lines)."""

    folder: Path
    raised_ro: str
    removed_ro: str
    month: str  # YYYY-MM both orders were opened in
    raise_by: Decimal
    removed_total: Decimal

    @property
    def revenue_change(self) -> Decimal:
        # Both orders are revenue orders of the same month.
        return self.raise_by - self.removed_total


def ro_numbers_delivered(landing: Path, store: str) -> Counter:
    """How many drops of `store` deliver each repair order number."""
    return Counter(ro["ro_number"] for f in (landing / "dms" / store).glob("*/repair_orders.csv")
                   for ro in rows_by_name(f))


def correctable_pair(folder: Path, delivered: Counter) -> tuple[dict, dict] | None:
    """Two revenue orders of the drop opened in one month, each delivered by
    this drop only (so the drop's version is the one that counts)."""
    candidates = [ro for ro in rows_by_name(folder / "repair_orders.csv")
                  if is_revenue(ro) and delivered[ro["ro_number"]] == 1]
    for a, b in itertools.combinations(candidates, 2):
        if a["opened_at"][:7] == b["opened_at"][:7]:
            return a, b
    return None


def correct_repair_orders(folder: Path, raised: dict, removed: dict, raise_by: Decimal) -> RepairOrderCorrection:
    """Re-deliver the drop's repair orders with `raised` costing `raise_by`
    more labour and `removed` gone; the lines file loses `removed`'s lines.
    (The raised order's lines are left as they were: no mart reads line
    amounts, and the loader does not reconcile them with the order.)"""
    header, rows = read_csv(folder / "repair_orders.csv")
    col = {name: i for i, name in enumerate(header)}
    out = []
    for row in rows:
        if row[col["ro_number"]] == removed["ro_number"]:
            continue
        if row[col["ro_number"]] == raised["ro_number"]:
            row = list(row)
            for name in ("labor_amount", "total_amount"):
                row[col[name]] = str(Decimal(row[col[name]]) + raise_by)
        out.append(row)
    assert len(out) == len(rows) - 1
    write_csv(folder / "repair_orders.csv", header, out)
    header, lines = read_csv(folder / "repair_order_lines.csv")
    kept = [line for line in lines if line[header.index("ro_number")] != removed["ro_number"]]
    assert len(kept) < len(lines)
    write_csv(folder / "repair_order_lines.csv", header, kept)
    return RepairOrderCorrection(folder, raised["ro_number"], removed["ro_number"], raised["opened_at"][:7],
                                 raise_by, Decimal(removed["total_amount"]))


def correct_cell(path: Path, key_column: str, key: str, column: str, value: str) -> str:
    """Re-deliver a file with one row's `column` set to `value` (the row whose
    `key_column` is `key`); the value it replaces."""
    header, rows = read_csv(path)
    hits = [row for row in rows if row[header.index(key_column)] == key]
    assert len(hits) == 1 and hits[0][header.index(column)] != value
    old, hits[0][header.index(column)] = hits[0][header.index(column)], value
    write_csv(path, header, rows)
    return old


def append_rows(path: Path, rows: list[dict[str, str]]) -> None:
    """Re-deliver a file with `rows` added (named by column)."""
    header, kept = read_csv(path)
    write_csv(path, header, kept + [[row[name] for name in header] for row in rows])


def _read_as_delivered(path: Path) -> tuple[list[str], list[list[str]], str, str]:
    """A file in any of the landing's encodings (UTF-8 with or without BOM,
    GB18030) and line ends: its header, rows, encoding and line end."""
    from sources.encoding import inspect

    data = path.read_bytes()
    encoding = inspect(path).encoding
    header, *rows = csv.reader(io.StringIO(data.decode(encoding)))
    return header, rows, encoding, "\r\n" if b"\r\n" in data else "\n"


def rows_as_delivered(path: Path) -> list[dict[str, str]]:
    """rows_by_name for a file in any of the landing's encodings and line ends."""
    header, rows, _, _ = _read_as_delivered(path)
    return [dict(zip(header, row)) for row in rows]


def append_rows_as_delivered(path: Path, rows: list[dict[str, str]]) -> None:
    """append_rows for a file in any of the landing's encodings and line
    ends, written back in its own."""
    header, kept, encoding, line_end = _read_as_delivered(path)
    buf = io.StringIO()
    csv.writer(buf, lineterminator=line_end).writerows(
        [header, *kept, *([row[name] for name in header] for row in rows)])
    path.write_bytes(buf.getvalue().encode(encoding))
