"""The bulk path: DuckDB writes a relation's rows as CSV into a named pipe in
an owner-only scratch folder, and psycopg sends what comes out of it to
`COPY ... FROM STDIN` while DuckDB is still writing, so the export and the
COPY overlap. DuckDB's CSV keeps NULL (an empty field) apart from the empty
string (`""`), and writes decimals, dates and doubles as PostgreSQL reads
them back exactly.

DuckDB runs in a thread of its own (it releases the GIL while it runs). This
side opens the pipe for reading and writing before DuckDB starts, so
DuckDB's open never waits for a reader and the pipe never reports an end of
file: the rows end when DuckDB's thread has returned and the pipe is empty.
Either side failing ends both, and the first failure is raised:

- DuckDB fails: the COPY is aborted with DuckDB's error (nothing it sent is kept);
- the COPY fails: DuckDB is interrupted, and what it still writes is read and
  dropped so that it never waits on a full pipe; the COPY's error is raised.

The publish runs the exports on one DuckDB thread: one thread writes CSV
faster than PostgreSQL reads it, and more threads only spin while the pipe
is full, taking the CPU the server needs (docs/decisions.md, "Serving from
PostgreSQL").
"""

from __future__ import annotations

import fcntl
import os
import select
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb
from psycopg import sql

from orchestration.postgres.relations import Relation, quote

_CHUNK = 1 << 20
# A 1 MiB pipe (Linux's default limit for an unprivileged process) instead of
# 64 KiB: fewer switches between the two sides.
_PIPE_BYTES = 1 << 20
_POLL_MS = 10


def copy_rows(conn, duck: duckdb.DuckDBPyConnection, relation: Relation, *, into: str, where: str | None,
              scratch: Path) -> int:
    """COPY the relation's rows (those `where` selects, a DuckDB condition)
    into the table of the same name in schema `into`; return how many."""
    names = ", ".join(quote(c) for c in relation.column_names)
    select_rows = f"select {names} from {relation.duckdb_source()}" + (f" where {where}" if where else "")
    pipe = scratch / f"{relation.schema}.{relation.table}.csv"
    escaped = str(pipe).replace("'", "''")
    # use_tmp_file false: DuckDB writes into the pipe itself, not a file renamed over it.
    export = f"copy ({select_rows}) to '{escaped}' (format csv, header false, use_tmp_file false)"
    copy = sql.SQL("copy {} ({}) from stdin (format csv)").format(
        sql.Identifier(into, relation.table), sql.SQL(", ").join(map(sql.Identifier, relation.column_names)))
    os.mkfifo(pipe, 0o600)
    try:
        fd = os.open(pipe, os.O_RDWR)
        try:
            try:
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_BYTES)
            except OSError:
                pass  # a smaller pipe only costs speed
            exporter = _Export(duck, export)
            try:
                with conn.cursor() as cur, cur.copy(copy) as sink:
                    for chunk in _chunks(fd, exporter):
                        sink.write(chunk)
            except BaseException:
                exporter.stop(fd)
                raise
            return exporter.rows
        finally:
            os.close(fd)
    finally:
        pipe.unlink(missing_ok=True)


class _Export(threading.Thread):
    """DuckDB's COPY ... TO the pipe, on a cursor (a connection of its own to the same database) in a thread."""

    def __init__(self, duck: duckdb.DuckDBPyConnection, statement: str) -> None:
        super().__init__(name="duckdb-csv-export", daemon=True)
        self.cursor = duck.cursor()
        self.statement = statement
        self.rows = 0
        self.error: BaseException | None = None
        self.start()

    def run(self) -> None:
        try:
            (self.rows,) = self.cursor.execute(self.statement).fetchone()
        except BaseException as e:  # raised by the reading side, which knows what failed
            self.error = e
        finally:
            self.cursor.close()

    def stop(self, fd: int) -> None:
        """Interrupt DuckDB, and drop what it still writes until it has returned."""
        poller = _poller(fd)
        while self.is_alive():
            try:
                self.cursor.interrupt()
            except duckdb.Error:
                pass  # it has just returned and closed its cursor
            if poller.poll(_POLL_MS):
                os.read(fd, _CHUNK)
        self.join()


def _chunks(fd: int, exporter: _Export) -> Iterator[bytes]:
    """What DuckDB writes into the pipe, until it has returned and the pipe is empty; its error, raised."""
    poller = _poller(fd)
    while True:
        running = exporter.is_alive()  # before the poll: once it has returned, an empty pipe is the end
        if poller.poll(_POLL_MS):
            yield os.read(fd, _CHUNK)
        elif not running:
            exporter.join()
            if exporter.error is not None:
                raise exporter.error
            return


def _poller(fd: int) -> select.poll:
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return poller
