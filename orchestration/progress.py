"""What `aftersales run` and `aftersales bench` are doing, as they do it: a
live line on a terminal (the step, its counts, the time it has taken) and a
line per finished step above it. Nothing at all when the output is not a
terminal, so logs and tests read as before; the final summary is printed by
the callers either way.

The run's steps come from Dagster's own events, through a Dagster logger
(`dagster_logger`) the pipeline adds to the run."""

from __future__ import annotations

import logging
import sys
import time
from typing import TextIO

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


class LiveProgress:
    """A live status line and finished-step lines, on a terminal only.

    `stream` is captured when made: `aftersales run` then sends stdout to its
    log file, and the progress still reaches the terminal."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool = True, console: Console | None = None):
        self.console = console or Console(file=stream or sys.stdout)
        self.enabled = enabled and self.console.is_terminal
        self._progress: Progress | None = None
        self._task = None
        self._phase_started = time.monotonic()

    def __enter__(self) -> LiveProgress:
        if self.enabled:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}", markup=False),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
                # stdout may be the run's log file meanwhile: leave it alone.
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None
            self._task = None

    def phase(self, description: str) -> None:
        """A new activity: its clock starts at zero."""
        self._phase_started = time.monotonic()
        if self._progress is None:
            return
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._task = self._progress.add_task(description, total=None)

    def update(self, description: str) -> None:
        """The same activity, with new counts."""
        if self._progress is not None and self._task is not None:
            self._progress.update(self._task, description=description)

    def done(self, line: str, *, timed: bool = True) -> None:
        """A finished activity, printed above the live line with its duration."""
        if self._progress is not None:
            took = f" ({time.monotonic() - self._phase_started:.1f} s)" if timed else ""
            self._progress.console.print(line + took, markup=False, highlight=False)

    def print(self, line: str) -> None:
        """A line of the caller's own output: above the live line on a
        terminal, plainly elsewhere."""
        if self._progress is not None:
            self._progress.console.print(line, markup=False, highlight=False)
        else:
            print(line, flush=True)

    def dagster_logger(self, total_steps: int, dbt_step: str, dbt_nodes: int):
        """A Dagster logger definition that shows the run's steps on this progress."""
        from dagster import logger

        tracker = _RunSteps(self, total_steps, dbt_step, dbt_nodes)

        @logger(description="Shows the run's steps as they start and finish (aftersales run on a terminal).")
        def progress_logger(_init_context) -> logging.Logger:
            log = logging.Logger("aftersales.progress", logging.DEBUG)
            log.addHandler(tracker)
            return log

        return progress_logger


class _RunSteps(logging.Handler):
    """Turns Dagster's step events into progress lines."""

    def __init__(self, progress: LiveProgress, total_steps: int, dbt_step: str, dbt_nodes: int):
        super().__init__(logging.DEBUG)
        self.progress, self.total_steps, self.dbt_step, self.dbt_nodes = progress, total_steps, dbt_step, dbt_nodes
        self.started = 0
        self._reset()

    def _reset(self) -> None:
        self.step: str | None = None
        self.built = self.checked = self.failed_checks = 0
        self.loaded: dict[str, int] = {}

    def _counts(self) -> str:
        if self.step == self.dbt_step:
            if not self.built and not self.checked:
                return "dbt starts (parses the project when it changed)"
            return f"{self.built}/{self.dbt_nodes} models and seeds built, {self.checked} tests run"
        if self.loaded:
            return f"{self.loaded.get('files_loaded', 0):,} files, {self.loaded.get('rows_loaded', 0):,} rows loaded"
        return f"{self.checked} check{'s' if self.checked != 1 else ''} run" if self.checked else ""

    def _line(self) -> str:
        counts = self._counts()
        return f"step {self.started}/{self.total_steps} {self.step}" + (f": {counts}" if counts else "")

    def emit(self, record: logging.LogRecord) -> None:
        event = (getattr(record, "dagster_meta", None) or {}).get("dagster_event")
        if event is None:
            return
        kind = event.event_type_value
        if kind == "STEP_START":
            self._reset()
            self.started += 1
            self.step = event.step_key
            self.progress.phase(self._line())
        elif kind == "ASSET_MATERIALIZATION":
            materialization = event.event_specific_data.materialization
            if self.step == self.dbt_step:
                self.built += 1
            elif materialization.asset_key.path == ["raw", "load_log"]:
                self.loaded = {k: int(v.value) for k, v in materialization.metadata.items()
                               if k in ("files_loaded", "rows_loaded")}
            self.progress.update(self._line())
        elif kind == "ASSET_CHECK_EVALUATION":
            self.checked += 1
            self.failed_checks += not event.event_specific_data.passed
            self.progress.update(self._line())
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key == self.step:
            counts = self._counts()
            failed = f", {self.failed_checks} failed" if self.failed_checks else ""
            mark = "done" if kind == "STEP_SUCCESS" else "FAILED"
            self.progress.done(f"  {mark:7} {self.step}" + (f": {counts}{failed}" if counts else ""))
        elif kind == "STEP_SKIPPED":  # never started: a step it needs failed
            self.progress.done(f"  skipped {event.step_key}", timed=False)
