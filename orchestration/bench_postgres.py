"""The bench's PostgreSQL server (`aftersales bench --postgres DSN`, or
`--throwaway-postgres` for a local cluster started for the bench and removed
after): every run also publishes to it, as `aftersales run --postgres` does
(the same pipeline step, timed with the others), and after each run the
bench counts what the server holds against the published file.

The server starts empty, as the bench's warehouse does: its published
schemas are dropped before the full build, so the full build is a first,
whole publish. The bench's demo relations replace whatever that server
served: give it a throwaway or test server, never the group's."""

from __future__ import annotations

import argparse
import contextlib
import signal
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def bench_server(args: argparse.Namespace) -> Iterator[str]:
    """The DSN the runs publish to, '' for none (the bench never reads
    AFTERSALES_POSTGRES_DSN: it would replace that server's marts)."""
    if not args.throwaway_postgres:
        yield args.postgres or ""
        return
    from orchestration.postgres.cluster import PostgresCluster

    try:
        cluster = PostgresCluster()
    except RuntimeError as e:
        raise SystemExit(f"aftersales bench: {e}") from e
    # Stopped with SIGTERM (`kill`, a CI timeout), the bench still removes
    # the server it started: the signal raises SystemExit, which runs finally.
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        try:
            cluster.start()
        except RuntimeError as e:
            raise SystemExit(f"aftersales bench: cannot start a throwaway PostgreSQL server: {e}") from e
        yield cluster.dsn()
    finally:
        cluster.stop()
        signal.signal(signal.SIGTERM, previous)


def _exit_on_sigterm(signum, frame):
    raise SystemExit(128 + signum)


def empty_server(dsn: str) -> None:
    """Drop the published schemas (and a failed publish's staging or old ones); roles stay."""
    import psycopg
    from psycopg import sql

    from orchestration.postgres.publish import OLD_PREFIX, STAGING_PREFIX, SWAPPED_SCHEMAS

    try:
        with psycopg.connect(dsn, autocommit=True) as conn, conn.transaction():
            for prefix in ("", STAGING_PREFIX, OLD_PREFIX):
                for schema in SWAPPED_SCHEMAS:
                    conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(prefix + schema)))
    except psycopg.Error as e:
        raise SystemExit(f"aftersales bench: cannot empty the PostgreSQL server: {str(e).strip()}") from e


def held_vs_published(dsn: str, published: Path) -> dict:
    """Rows per table in the published file and on the server (as the DSN's
    user, who owns the tables, so row-level security filters nothing): the
    totals and the tables whose counts differ. The views' rows are their
    tables'."""
    import duckdb
    import psycopg
    from psycopg import sql

    from orchestration.postgres.relations import published_relations

    with duckdb.connect() as duck:
        escaped = str(published).replace("'", "''")
        duck.execute(f"attach '{escaped}' as pub (read_only)")
        relations = [r for r in published_relations(duck) if r.view_query is None]
        in_file = {r.name: duck.execute(f"select count(*) from {r.duckdb_source()}").fetchone()[0] for r in relations}
    on_server: dict[str, int | None] = {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        for r in relations:
            if conn.execute("select to_regclass(%s)", [f'"{r.schema}"."{r.table}"']).fetchone()[0] is None:
                on_server[r.name] = None
            else:
                on_server[r.name] = conn.execute(
                    sql.SQL("select count(*) from {}").format(sql.Identifier(r.schema, r.table))).fetchone()[0]
    return {
        "relations": len(relations),
        "rows_published": sum(in_file.values()),
        "rows_held": sum(n or 0 for n in on_server.values()),
        "differing": sorted(name for name in in_file if in_file[name] != on_server[name]),
    }
