"""Publish the analyst relations of the published DuckDB file into PostgreSQL.

Readers never see a half-published state. There are two ways in:

- **A whole publish** (the first, or when the relations, their columns,
  their access rules or a view's query changed): every table is loaded into
  a fresh staging schema (`aftersales_next_marts` for `marts`, ...) with its
  grants and row-level security policies, in one transaction; then one short
  transaction locks every live relation, renames the live schemas away and
  the staging ones in (ALTER SCHEMA ... RENAME) and creates the views (the
  customer-month marts, over their stored tables); then the old schemas are
  dropped. The swap waits at most LOCK_WAIT for the locks and tries again
  until SWAP_DEADLINE rather than queueing behind a long query (a reader
  holding one relation and waiting for another would deadlock with it).
  Holding every lock means no query has resolved a live name when the names
  change: a query sees the old relations or the new ones, never a mix.
- **An update in place** (the same relations as the server holds): one
  transaction deletes the months that changed (fingerprints.py) from the
  live tables and COPYs the new build's rows of those months in; the views
  read them.
  PostgreSQL's snapshots make it atomic for readers, who are never blocked:
  a query sees every change of the transaction or none.
- **Changed rows**: when the server holds the build just before the
  published one and that one is incremental (given the working copy:
  orchestration.publish.rows_changed_since), the marts of
  expectations.suites.CHANGED_ROWS are updated, in that same transaction, by
  the rows their condition selects instead of whole months (a day's drops
  touch customers in every month). The working copy's relations a condition
  reads (schema intermediate) are copied into temporary tables first; the
  condition deletes on the server with its names pointed at them, and
  selects the rows to COPY in the published file.

Either way a failure rolls back, the server keeps the last good marts, and
PostgresPublishError names the relation.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

from orchestration import settings
from orchestration.postgres import fingerprints
from orchestration.postgres.access import ANALYST_ROLE, Store, apply_access, sync_roles
from orchestration.postgres.bulk import copy_rows
from orchestration.postgres.relations import Relation, create_table, create_view, published_relations, quote
from orchestration.publish import ANALYST_SCHEMAS, MONTH_COLUMN, rows_changed_since

STAGING_PREFIX = "aftersales_next_"
OLD_PREFIX = "aftersales_old_"
SWAPPED_SCHEMAS = (*ANALYST_SCHEMAS, fingerprints.SCHEMA)
LOCK_WAIT = "200ms"  # below deadlock_timeout (1 s): the swap gives up before a reader could deadlock with it
SWAP_DEADLINE_SECONDS = 600.0
DELETE_WORK_MEM = "256MB"  # per sort or hash of the update's transaction


class PostgresPublishError(Exception):
    """The server was not updated: it keeps the last good marts."""


@dataclass(frozen=True)
class PostgresPublished:
    relations: int
    in_place: bool  # an update in place, not a whole publish
    rows_copied: int  # rows sent with COPY
    rows_kept: int  # rows of unchanged months, left on the server
    seconds: float
    copy_seconds: float  # DuckDB export and COPY of the rows sent
    fingerprint_seconds: float = 0.0  # the published file's fingerprints, computed in DuckDB
    delete_seconds: float = 0.0  # the server's deletes of the rows replaced (an update in place)
    # relation -> how it was sent: "whole", "changed months", "changed rows", "unchanged" (rows
    # without a month are sent in any case) or "view" (an update in place leaves it as it is)
    sent_as: dict[str, str] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows_copied / self.copy_seconds if self.copy_seconds else 0.0


class _Failed(Exception):
    """Which relation or step failed, for the error message."""

    def __init__(self, what: str) -> None:
        self.what = what


def publish_to_postgres(published: Path, dsn: str, *, incremental: bool = True,
                        working: Path | None = None) -> PostgresPublished:
    """Publish every relation of the published DuckDB file `published` into the
    server at `dsn`; with `incremental`, only the months that changed since the
    server's last publish are sent, or, given the `working` copy the file was
    published from, only the rows changed when the server holds the build
    before it. Raises PostgresPublishError, naming the relation or step, and
    leaves the server as it was."""
    started = time.monotonic()
    published = Path(published)
    if not published.is_file():
        raise PostgresPublishError(f"no published warehouse at {published}: run `aftersales run` first")
    duck = duckdb.connect(config=settings.duckdb_resources(published))  # bounded, as the job's others
    try:
        duck.execute(f"attach '{_escape(str(published))}' as pub (read_only)")
        relations = published_relations(duck)
        stores = _stores(duck)
        build = _build(duck, relations)
        try:
            conn = psycopg.connect(dsn, autocommit=True)
        except psycopg.Error as e:
            raise PostgresPublishError(f"cannot connect to the PostgreSQL server: {str(e).strip()}") from e
        with conn, tempfile.TemporaryDirectory(prefix=".pg-publish-", dir=published.parent) as scratch:
            try:
                _prepare(conn, stores)
                t0 = time.monotonic()
                new = {(r.schema, r.table): fingerprints.compute(duck, r) if r.view_query is None else {}
                       for r in relations}
                fingerprint_seconds = time.monotonic() - t0
                delete_seconds = 0.0
                duck.execute("set threads = 1")  # for the CSV exports: see bulk.py
                held = fingerprints.held(conn) if incremental else {}
                in_place = bool(held) and {k: v[0] for k, v in held.items()} == {
                    (r.schema, r.table): r.signature for r in relations}
                if in_place:
                    rows_changed = _rows_changed(conn, duck, working, build, relations)
                    copied, kept, copy_seconds, delete_seconds, sent_as = _update_in_place(
                        conn, duck, relations, new, held, rows_changed, build, Path(scratch))
                else:
                    copied, kept, copy_seconds = _load_staging(conn, duck, relations, new, build, Path(scratch))
                    sent_as = {r.name: "view" if r.view_query is not None else "whole" for r in relations}
                    _swap(conn, [r for r in relations if r.view_query is not None])
                    _drop_old(conn)
            except _Failed as failed:
                cause = failed.__cause__
                raise PostgresPublishError(
                    f"publishing {failed.what} to PostgreSQL failed, the server keeps the last good marts: "
                    f"{type(cause).__name__}: {str(cause).strip()}"
                ) from cause
    finally:
        duck.close()
    return PostgresPublished(len(relations), in_place, copied, kept, time.monotonic() - started, copy_seconds,
                             fingerprint_seconds, delete_seconds, sent_as)


def server_address(dsn: str) -> str:
    """host:port/dbname, never the password."""
    from psycopg.conninfo import conninfo_to_dict

    parts = conninfo_to_dict(dsn)
    return f"{parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


def _stores(duck: duckdb.DuckDBPyConnection) -> list[Store]:
    try:
        rows = duck.execute("select store_code, region from pub.marts.dim_stores order by store_code").fetchall()
    except duckdb.Error as e:
        raise PostgresPublishError(f"the published warehouse has no readable marts.dim_stores: {e}") from e
    return [Store(code, region) for code, region in rows]


def _prepare(conn: psycopg.Connection, stores: list[Store]) -> None:
    """Remove what a failed publish left, and make sure every published store
    has its roles and scopes (the policies name them)."""
    try:
        with conn.transaction():
            for prefix in (STAGING_PREFIX, OLD_PREFIX):
                for schema in SWAPPED_SCHEMAS:
                    conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(prefix + schema)))
            sync_roles(conn, stores)
    except (psycopg.Error, ValueError) as e:
        raise _Failed("the store, region and group roles") from e


def _build(duck: duckdb.DuckDBPyConnection, relations: list[Relation]) -> str | None:
    """The build_id of the published file's ops.build; None when it has none."""
    if not any(r.name == "ops.build" for r in relations):
        return None
    row = duck.execute("select build_id from pub.ops.build").fetchone()
    return row[0] if row else None


def _rows_changed(conn, duck, working: Path | None, build: str | None, relations: list[Relation]) -> dict[str, str]:
    """relation -> the condition selecting its rows to replace, when the server
    holds the build before `build` and `build` is incremental; else empty.
    The working copy's intermediate relations the conditions read are copied
    into DuckDB's memory database, where the conditions are evaluated."""
    from expectations.suites import CHANGED_ROWS_READS

    if working is None or build is None or not Path(working).is_file():
        return {}
    try:
        conditions = rows_changed_since(Path(working), fingerprints.held_build(conn), current_build=build)
        conditions = {r.name: conditions[r.name] for r in relations if r.name in conditions and r.view_query is None}
        read = sorted({t for c in conditions.values() for t in CHANGED_ROWS_READS.findall(c)})
        if read:
            duck.execute(f"attach '{_escape(str(working))}' as work (read_only)")
            try:
                duck.execute("create schema if not exists memory.intermediate")
                for table in read:
                    duck.execute(f"create or replace table memory.intermediate.{quote(table)} as "
                                 f"select * from work.intermediate.{quote(table)}")
            finally:
                duck.execute("detach work")
    except (psycopg.Error, duckdb.Error, OSError) as e:
        raise _Failed(f"the working copy's changed rows ({working})") from e
    return conditions


def _load_staging(conn, duck, relations: list[Relation], new: dict, build: str | None,
                  scratch: Path) -> tuple[int, int, float]:
    """Fill the staging schemas in one transaction; (rows copied, 0, seconds copying)."""
    copied, copy_seconds, current = 0, 0.0, "the staging schemas"
    try:
        with conn.transaction():
            for schema in SWAPPED_SCHEMAS:
                staging = sql.Identifier(STAGING_PREFIX + schema)
                conn.execute(sql.SQL("create schema {}").format(staging))
                if schema != fingerprints.SCHEMA:
                    conn.execute(sql.SQL("grant usage on schema {} to {}").format(staging, sql.Identifier(ANALYST_ROLE)))
            fingerprints.create_table(conn, STAGING_PREFIX + fingerprints.SCHEMA)
            fingerprints.record_build(conn, build, schema=STAGING_PREFIX + fingerprints.SCHEMA)
            for relation in relations:
                current = relation.name
                fingerprints.record(conn, relation, new[(relation.schema, relation.table)],
                                    schema=STAGING_PREFIX + fingerprints.SCHEMA)
                if relation.view_query is not None:
                    continue  # created by the swap, once the tables it reads are live
                staging = STAGING_PREFIX + relation.schema
                create_table(conn, relation, staging)
                t0 = time.monotonic()
                copied += copy_rows(conn, duck, relation, into=staging, where=None, scratch=scratch)
                copy_seconds += time.monotonic() - t0
                apply_access(conn, relation.schema, relation.table, relation.column_names, loaded_in=staging)
    except (psycopg.Error, duckdb.Error, ValueError, OSError) as e:
        raise _Failed(current) from e
    return copied, 0, copy_seconds


def _update_in_place(conn, duck, relations: list[Relation], new: dict, held: dict, rows_changed: dict[str, str],
                     build: str | None, scratch: Path) -> tuple[int, int, float, float, dict[str, str]]:
    """Replace, in one transaction, the changed rows of the relations of
    `rows_changed` and the changed months of the others; (rows copied, rows
    left as they were, seconds copying, seconds deleting, relation -> how it
    was sent)."""
    from expectations.suites import CHANGED_ROWS_READS, row_ids_where

    copied, kept, copy_seconds, delete_seconds, current, sent_as = 0, 0, 0.0, 0.0, "the changed months", {}
    try:
        with conn.transaction():
            # A delete's `IN (changed keys) OR ...` is a subplan, hashed only when the keys fit in
            # work_mem (4 MB by default, a few ten thousand keys): beyond, each row scans the list.
            conn.execute(f"set local work_mem = '{DELETE_WORK_MEM}'")
            sources = sorted({t for c in rows_changed.values() for t in CHANGED_ROWS_READS.findall(c)})
            current = "the working copy's changed rows"
            copy_seconds += _load_changed_rows_sources(conn, duck, sources, scratch)
            for relation in relations:
                current = relation.name
                if relation.view_query is not None:
                    # Its query is in its signature, unchanged: it reads the tables updated here.
                    sent_as[relation.name] = "view"
                    continue
                months, live = new[(relation.schema, relation.table)], held[(relation.schema, relation.table)][1]
                target = sql.Identifier(relation.schema, relation.table)
                condition = rows_changed.get(relation.name)
                if condition is not None:
                    # Its intermediate relations are the temporary tables on the server.
                    t0 = time.monotonic()
                    conn.execute(sql.SQL("delete from {} where {}").format(
                        target, sql.SQL(CHANGED_ROWS_READS.sub(r"pg_temp.\1", condition))))
                    delete_seconds += time.monotonic() - t0
                    t0 = time.monotonic()
                    sent = copy_rows(conn, duck, relation, into=relation.schema, scratch=scratch,
                                     where=row_ids_where(relation.duckdb_source(), condition))
                    copy_seconds += time.monotonic() - t0
                    (total,) = duck.execute(f"select count(*) from {relation.duckdb_source()}").fetchone()
                    copied, kept = copied + sent, kept + total - sent
                    fingerprints.record(conn, relation, months)
                    sent_as[relation.name] = "changed rows"
                    continue
                changed = sorted(m for m in set(months) | set(live) if months.get(m) != live.get(m) and m is not None)
                kept += sum(count for m, (count, _) in months.items() if m not in changed and m is not None)
                if not relation.by_month:
                    if months.get(None) == live.get(None):
                        kept += months[None][0]
                        sent_as[relation.name] = "unchanged"
                        continue
                    where = None
                    conn.execute(sql.SQL("delete from {}").format(target))
                else:
                    # Rows without a month are not fingerprinted: always replaced.
                    month = quote(MONTH_COLUMN)
                    listed = ", ".join(f"date '{m.isoformat()}'" for m in changed)
                    where = f"{month} is null" + (f" or {month} in ({listed})" if changed else "")
                    t0 = time.monotonic()
                    conn.execute(sql.SQL("delete from {} where {} is null or {} = any(%s)").format(
                        target, sql.Identifier(MONTH_COLUMN), sql.Identifier(MONTH_COLUMN)), [changed])
                    delete_seconds += time.monotonic() - t0
                t0 = time.monotonic()
                copied += copy_rows(conn, duck, relation, into=relation.schema, where=where, scratch=scratch)
                copy_seconds += time.monotonic() - t0
                fingerprints.record(conn, relation, months)
                sent_as[relation.name] = ("changed months" if changed else "unchanged") if relation.by_month else "whole"
            current = "the publish record"
            fingerprints.record_build(conn, build)
            for table in sources:
                conn.execute(sql.SQL("drop table {}").format(sql.Identifier("pg_temp", table)))
    except (psycopg.Error, duckdb.Error, ValueError, OSError) as e:
        raise _Failed(current) from e
    return copied, kept, copy_seconds, delete_seconds, sent_as


def _load_changed_rows_sources(conn, duck, tables: list[str], scratch: Path) -> float:
    """COPY the intermediate relations the conditions read (in DuckDB's memory
    database: _rows_changed) into temporary tables of the same names; return
    the seconds copying."""
    seconds = 0.0
    for table in tables:
        columns = duck.execute(
            "select column_name, data_type from duckdb_columns() where database_name = 'memory' "
            "and schema_name = 'intermediate' and table_name = ? order by column_index", [table]).fetchall()
        source = Relation("intermediate", table, columns, database="memory")
        conn.execute(sql.SQL("drop table if exists {}").format(sql.Identifier("pg_temp", table)))
        create_table(conn, source, "pg_temp")
        t0 = time.monotonic()
        copy_rows(conn, duck, source, into="pg_temp", where=None, scratch=scratch)
        seconds += time.monotonic() - t0
        conn.execute(sql.SQL("analyze {}").format(sql.Identifier("pg_temp", table)))
    return seconds


def _swap(conn, views: list[Relation]) -> None:
    """Rename the live schemas away and the staging ones in, holding every
    live relation's lock, and create the views, which read the tables by their
    live names, in the same transaction."""
    deadline = time.monotonic() + SWAP_DEADLINE_SECONDS
    while True:
        try:
            with conn.transaction():
                conn.execute(f"set local lock_timeout = '{LOCK_WAIT}'")
                live = conn.execute(
                    "select schemaname, tablename from pg_tables where schemaname = any(%s) order by 1, 2",
                    [list(SWAPPED_SCHEMAS)]).fetchall()
                if live:
                    conn.execute(sql.SQL("lock table {} in access exclusive mode").format(
                        sql.SQL(", ").join(sql.Identifier(s, t) for s, t in live)))
                existing = {s for (s,) in conn.execute(
                    "select nspname from pg_namespace where nspname = any(%s)", [list(SWAPPED_SCHEMAS)])}
                for schema in SWAPPED_SCHEMAS:
                    if schema in existing:
                        conn.execute(sql.SQL("alter schema {} rename to {}").format(
                            sql.Identifier(schema), sql.Identifier(OLD_PREFIX + schema)))
                    conn.execute(sql.SQL("alter schema {} rename to {}").format(
                        sql.Identifier(STAGING_PREFIX + schema), sql.Identifier(schema)))
                for view in views:
                    create_view(conn, view)
                    apply_access(conn, view.schema, view.table, view.column_names, loaded_in=view.schema, view=True)
            return
        except psycopg.errors.LockNotAvailable as e:
            if time.monotonic() > deadline:
                raise _Failed(f"the swap (readers held the live relations for {SWAP_DEADLINE_SECONDS:.0f} s)") from e
            time.sleep(0.05)
        except psycopg.Error as e:
            raise _Failed("the swap") from e


def _drop_old(conn) -> None:
    """The new marts are live: failing to drop the old ones fails nothing (the
    next publish drops them first, in _prepare)."""
    try:
        with conn.transaction():
            for schema in SWAPPED_SCHEMAS:
                conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(OLD_PREFIX + schema)))
    except psycopg.Error:
        pass


def _escape(value: str) -> str:
    return value.replace("'", "''")
