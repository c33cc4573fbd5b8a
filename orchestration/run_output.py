"""What `aftersales run` shows: a short summary on the terminal, the full
Dagster and dbt output in a log file beside the warehouse."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sys
from collections.abc import Iterator
from pathlib import Path

from orchestration.pipeline import RunSummary


@contextlib.contextmanager
def quiet_run_output(warehouse: Path, *, verbose: bool) -> Iterator[Path]:
    """Send stdout (dbt's log lines) and Dagster's log records to a log file
    unless verbose."""
    log_dir = Path(warehouse).resolve().parent / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"run-{dt.datetime.now():%Y%m%d-%H%M%S}.log"
    if verbose:
        yield log_file
        return
    with open(log_file, "w", encoding="utf-8") as out:
        handler = logging.StreamHandler(out)
        dagster_logger = logging.getLogger("dagster")
        dagster_logger.addHandler(handler)
        dagster_logger.propagate = False
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                yield log_file
        finally:
            dagster_logger.removeHandler(handler)
            dagster_logger.propagate = True


def print_summary(summary: RunSummary, log_file: Path | None = None, stream=None) -> None:
    stream = stream or sys.stdout
    p = lambda text="": print(text, file=stream)  # noqa: E731
    status = "OK" if summary.exit_code == 0 else "FAILED"
    p(f"aftersales run: {status} in {summary.seconds:.1f} s")
    p(f"  landing      {summary.landing} (run covers drop dates {summary.range_start} .. {summary.range_end})")
    p(
        f"  loaded       {summary.files_loaded} files, {summary.rows_loaded} rows"
        f" ({summary.files_unchanged} files unchanged since the last load)"
    )
    p(f"  quarantined  {summary.rows_quarantined} rows (table raw.quarantine)")
    if summary.unchanged_build:
        p(f"  nothing new  build {summary.unchanged_build} is published and current: nothing rebuilt, re-checked"
          " or sent (--full-refresh rebuilds)")
    if summary.rejected:
        p(f"  rejected     {len(summary.rejected)} files; failed store/date: {', '.join(summary.failed_store_dates)}")
        for message in summary.rejected[:20]:
            p(f"    - {message}")
    if summary.failed_checks:
        p(f"  failed checks ({len(summary.failed_checks)}):")
        for check in summary.failed_checks[:20]:
            p(f"    - {check}")
    if summary.late_drops:
        p(f"  late drops   {len(summary.late_drops)} store sources behind (table marts.source_freshness):")
        for line in summary.late_drops[:20]:
            p(f"    - {line}")
    if summary.warned_checks:
        p(f"  warnings     {len(summary.warned_checks)} checks found data-quality issues:")
        for check in summary.warned_checks[:20]:
            p(f"    - {check}")
    for error in summary.errors:
        p(f"  error        {error}")
    if summary.skipped_steps:
        p(f"  skipped      {', '.join(summary.skipped_steps)} (a step they need failed or gave no output;"
          " the full log says which)")
    if summary.published:
        p(f"  warehouse    {summary.warehouse} (published; built in {summary.working_copy})")
    else:
        p(f"  warehouse    {summary.warehouse} NOT updated: analysts keep the last good warehouse"
          f" (the new build is in {summary.working_copy})")
    if summary.postgres_server:
        p(f"  postgres     {summary.postgres_server} (the published relations, per-store access)")
    p(f"  data docs    {summary.data_docs_dir / 'index.html'}")
    if log_file:
        p(f"  full log     {log_file}")
    # last, so that `make run` ends with the page to open
    if summary.dashboards_index:
        p(f"  group page   {summary.dashboards_index}")
