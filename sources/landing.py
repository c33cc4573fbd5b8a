"""Finding the files of a landing tree (SPEC section 3).

The tree is `<landing>/<source>/<store_code>/<YYYY-MM-DD>/<file>.csv` plus the
reference file `<landing>/reference/stores.csv`. Discovery only lists paths;
it never opens a file, so listing a three-year landing stays cheap.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from sources.contract import DROP_TABLES, STORES, LandingTable


@dataclass(frozen=True)
class LandingFile:
    table: LandingTable
    path: Path  # absolute
    relative_path: str  # to the landing root, with forward slashes: the file's identity
    store_code: str | None  # from the folder; None for reference files
    drop_date: dt.date | None  # from the folder; None for reference files


def _parse_folder_date(name: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(name)
    except ValueError:
        return None


def discover(
    landing: Path,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    tables: tuple[LandingTable, ...] | None = None,
) -> list[LandingFile]:
    """Every landing file under `landing`, optionally limited to drop dates in
    [date_from, date_to]. The reference file is always included when present
    and `tables` allows it. Folders that are not dates are ignored (they are
    not drops); files a table does not name are ignored too."""
    landing = Path(landing)
    wanted = tables if tables is not None else (STORES, *DROP_TABLES)
    found: list[LandingFile] = []
    if STORES in wanted:
        ref = landing / STORES.source / STORES.file_name
        if ref.is_file():
            found.append(LandingFile(STORES, ref, f"{STORES.source}/{STORES.file_name}", None, None))
    by_source: dict[str, list[LandingTable]] = {}
    for table in wanted:
        if table.partitioned:
            by_source.setdefault(table.source, []).append(table)
    # Directory entries, not a stat per path: a 100-store landing has 12,000
    # drop folders and 25,000 files, and the run lists it more than once
    # (pathlib's is_dir and is_file per path: 0.8 s a listing).
    for source, source_tables in sorted(by_source.items()):
        source_dir = landing / source
        if not source_dir.is_dir():
            continue
        for store_dir in _subfolders(source_dir):
            store_path = source_dir / store_dir.name
            for date_dir in _subfolders(store_dir.path):
                drop_date = _parse_folder_date(date_dir.name)
                if drop_date is None:
                    continue
                if date_from and drop_date < date_from or date_to and drop_date > date_to:
                    continue
                files = _file_names(date_dir.path)
                date_path = store_path / date_dir.name  # a child of a Path: only its name is parsed
                for table in source_tables:
                    if table.file_name in files:
                        rel = f"{source}/{store_dir.name}/{date_dir.name}/{table.file_name}"
                        found.append(LandingFile(table, date_path / table.file_name, rel, store_dir.name, drop_date))
    return found


def _subfolders(folder: str | Path) -> list[os.DirEntry]:
    """The folders in `folder` (links to folders included), by name."""
    with os.scandir(folder) as entries:
        return sorted((entry for entry in entries if entry.is_dir()), key=lambda entry: entry.name)


def _file_names(folder: str) -> set[str]:
    """The names of the files in `folder` (links to files included)."""
    with os.scandir(folder) as entries:
        return {entry.name for entry in entries if entry.is_file()}


def earliest_drop_date(landing: Path) -> dt.date | None:
    """The first business date with a drop folder, or None for an empty
    landing: each store folder listed once, the first of its date-named
    folders (ISO dates sort as text) taken."""
    firsts = []
    for source in sorted({table.source for table in DROP_TABLES}):
        source_dir = Path(landing) / source
        if not source_dir.is_dir():
            continue
        for store_dir in _subfolders(source_dir):
            dates = (_parse_folder_date(entry.name) for entry in _subfolders(store_dir.path))
            firsts += [d for d in dates if d is not None][:1]
    return min(firsts, default=None)
