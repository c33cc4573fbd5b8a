"""Who may read which warehouse file (SPEC section 9).

- The **working copy** holds the raw layer: real names, phones and plates.
  Only the account that runs the job reads it (0600). DuckDB writes beside
  it a write-ahead log (``.wal``) and spill files (``.tmp/``) holding the
  same rows, created with the process's umask: the steps that write the
  working copy run under `owner_only()`, so those are owner-only too.
- The **published** file holds the analyst relations only: analysts, BI
  tools and the dashboards read it (0644).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

WORKING_COPY_MODE = 0o600
PUBLISHED_MODE = 0o644


@contextmanager
def owner_only() -> Iterator[None]:
    """Files created meanwhile, by this process or a child it starts (dbt),
    are readable by their owner only. The umask is process-wide: the job's
    steps run one at a time, so no other step's files are affected."""
    previous = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(previous)


def create_working_copy(path: Path) -> None:
    """Create an empty DuckDB database at `path`, owner-only, when there is
    none; make an existing one owner-only (a working copy an older version
    left readable by all)."""
    import duckdb

    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        with owner_only():
            duckdb.connect(str(path)).close()
    if path.stat().st_mode & 0o777 != WORKING_COPY_MODE:
        os.chmod(path, WORKING_COPY_MODE)
