"""Write, audit, publish: the daily job builds in a working copy of the
warehouse, and analysts read a published copy that only ever changes by an
atomic swap, after the critical Great Expectations checks of the marts pass.
In the Dagster job those checks are the blocking `gx_expectations` asset
checks, which keep the publish step from running when they fail; `publish`
then only checkpoints, copies and renames (audit_first=False). Called on its own,
`publish` audits first.

- The **published** file is the one AFTERSALES_DUCKDB names: analysts,
  dashboards and the call-list export open it read-only. The job never opens
  it, so a reader is never blocked by the job's write lock.
- The **working copy** (``warehouse.work.duckdb`` beside it) is where raw
  loads, dbt and the checks write. It persists between runs (it holds the raw
  layer), and is made from the published file when missing.
- **Publishing** copies the checkpointed working copy next to the published
  file and renames it over it (``os.replace``, atomic on one filesystem). A
  reader that opened the old file keeps reading the old file to the end of its
  connection; the next connection sees the new one. Never a half-built state.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb


class NotPublished(Exception):
    """The audit failed: the last good warehouse stays published."""


@dataclass(frozen=True)
class Published:
    path: Path
    bytes: int
    published_at: dt.datetime


def working_copy_path(published: Path) -> Path:
    """warehouse.duckdb -> warehouse.work.duckdb, beside it (same filesystem: the swap is a rename)."""
    published = Path(published)
    return published.with_name(f"{published.stem}.work{published.suffix or '.duckdb'}")


def _copy_atomically(source: Path, dest: Path) -> None:
    partial = dest.with_name(f".{dest.name}.partial")
    shutil.copyfile(source, partial)
    with open(partial, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(partial, dest)


def ensure_working_copy(published: Path, working: Path) -> None:
    """Start the working copy from the published warehouse when it is missing
    (a first run after an upgrade, or a deleted working copy); with neither,
    the job builds both from scratch."""
    if not working.exists() and published.exists():
        working.parent.mkdir(parents=True, exist_ok=True)
        _copy_atomically(published, working)


def audit(working: Path) -> list[str]:
    """The critical failures of the mart suites on the working copy; empty when it may be published."""
    from expectations.runner import validate_all
    from expectations.suites import MART_TABLES

    outcomes = validate_all(working, list(MART_TABLES))
    return [outcome.summary() for outcome in outcomes if outcome.critical_failed]


def publish(working: Path, published: Path, *, audit_first: bool = True) -> Published:
    """Audit the working copy (unless the caller has: audit_first=False) and
    swap it in for the published warehouse; raise NotPublished, leaving the
    published file as it was, when the audit fails."""
    failures = audit(working) if audit_first else []
    if failures:
        raise NotPublished(
            f"{published} was not updated (analysts keep the last good warehouse): "
            f"critical checks failed on the new build:\n" + "\n".join(failures)
        )
    # Fold the write-ahead log into the file, so the copy is the whole database.
    con = duckdb.connect(str(working))
    try:
        con.execute("checkpoint")
    finally:
        con.close()
    published.parent.mkdir(parents=True, exist_ok=True)
    _copy_atomically(working, published)
    return Published(published, published.stat().st_size, dt.datetime.now())
