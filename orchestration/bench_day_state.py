"""The bench's saved state before the one-day run, and replaying that run.

A change to what a day costs is best measured on the day the bench measures,
from the state the full build left. Rolling a warehouse back instead moves
its data date backwards, which the build does not recompute as it does a
forward move: such replays changed fewer customer-months than the real day
and under-stated its cost. `aftersales bench --save-day-state` copies the
runs folder's state (warehouses, dbt's target, pages, Data Docs) after the
full build; `aftersales bench --replay-day` puts the copy back and measures
the one-day run alone, in minutes instead of a whole bench.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from orchestration import settings
from orchestration.bench_landing import MARKER

SAVED = "before_one_day"
# What a runs folder holds that is not the state of its warehouse: the
# landing and its staged copy, the bench's own figures and references, the
# saved state itself, DuckDB's spill folder (settings.duckdb_resources), and
# another engine's runs folder (DuckDB's is the workdir, which holds the
# others').
NOT_STATE = {"landing", "landing_running", "landing_utf8", "duckdb_spill", SAVED, MARKER, *settings.ENGINES}
NOT_STATE_SUFFIXES = (".json", ".parquet")


def _state(runs_dir: Path) -> list[Path]:
    return sorted(p for p in runs_dir.iterdir()
                  if p.name not in NOT_STATE and not (p.is_file() and p.name.endswith(NOT_STATE_SUFFIXES)))


def _copy(source: Path, target: Path) -> None:
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True)
    else:
        shutil.copy2(source, target)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def save(runs_dir: Path) -> Path:
    """Copy the runs folder's state into runs_dir/before_one_day (replacing
    an older copy); return that folder."""
    saved = runs_dir / SAVED
    if saved.exists():
        shutil.rmtree(saved)
    saved.mkdir()
    for path in _state(runs_dir):
        _copy(path, saved / path.name)
    return saved


def restore(runs_dir: Path) -> None:
    """Make the runs folder's state the saved one: what the full build left."""
    saved = runs_dir / SAVED
    if not saved.is_dir():
        raise SystemExit(f"no saved state in {saved}: run the bench once with --save-day-state")
    for path in _state(runs_dir):
        _remove(path)
    for path in sorted(saved.iterdir()):
        _copy(path, runs_dir / path.name)
