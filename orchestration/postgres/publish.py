"""Publish the analyst relations of the published DuckDB file into PostgreSQL.

Readers never see a half-published state:
1. every relation is loaded into a fresh staging schema (`aftersales_next_marts`
   for `marts`, ...) with its grants and row-level security policies, in one
   transaction: a failure rolls it back and the live schemas stay as they were;
2. one short transaction locks every live relation and renames the live
   schemas away and the staging ones in (ALTER SCHEMA ... RENAME). It waits at
   most LOCK_WAIT for the locks and tries again until SWAP_DEADLINE rather than
   queueing behind a long query (a reader holding one relation and waiting for
   another would deadlock with it). Holding every lock means no query has
   resolved a live name when the names change: a query sees the old relations
   or the new ones, never a mix;
3. the old schemas are dropped.

The bulk path: DuckDB writes each relation as CSV into an owner-only
temporary folder, psycopg streams it to `COPY ... FROM STDIN`.

Sending what changed: the server keeps, per relation and month_end, the row
count and a fingerprint (a sum of DuckDB row hashes) of what it holds
(`aftersales_publish.fingerprints`, swapped with the relations). A month
whose count and fingerprint are unchanged is copied server-side from the live
relation into the staging one; only the other months cross the wire.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
from psycopg import sql

from orchestration.postgres.access import ANALYST_ROLE, Store, apply_access, sync_roles
from orchestration.postgres.types import postgres_type
from orchestration.publish import ANALYST_SCHEMAS, MONTH_COLUMN, _relations

STAGING_PREFIX = "aftersales_next_"
OLD_PREFIX = "aftersales_old_"
# The server's record of what it holds, swapped with the relations; analysts have no access to it.
FINGERPRINT_SCHEMA = "aftersales_publish"
SWAPPED_SCHEMAS = (*ANALYST_SCHEMAS, FINGERPRINT_SCHEMA)
LOCK_WAIT = "200ms"  # below deadlock_timeout (1 s): the swap gives up before a reader could deadlock with it
SWAP_DEADLINE_SECONDS = 600.0
_COPY_CHUNK = 1 << 20


class PostgresPublishError(Exception):
    """The server was not updated: it keeps the last good marts."""


@dataclass(frozen=True)
class PostgresPublished:
    relations: int
    rows_copied: int  # rows sent with COPY
    rows_kept: int  # rows of unchanged months copied server-side
    seconds: float
    copy_seconds: float  # DuckDB export and COPY of the changed rows

    @property
    def rows_per_second(self) -> float:
        return self.rows_copied / self.copy_seconds if self.copy_seconds else 0.0


@dataclass(frozen=True)
class _Relation:
    schema: str
    table: str
    columns: list[tuple[str, str]]  # (name, DuckDB type)

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def signature(self) -> str:
        return ",".join(f"{c} {t}" for c, t in self.columns)

    @property
    def by_month(self) -> bool:
        return any(c == MONTH_COLUMN and t == "DATE" for c, t in self.columns)


def publish_to_postgres(published: Path, dsn: str, *, incremental: bool = True) -> PostgresPublished:
    """Publish every relation of the published DuckDB file `published` into the
    server at `dsn`; with `incremental`, only the months that changed since the
    server's last publish cross the wire. Raises PostgresPublishError, naming
    the relation or step, and leaves the live schemas as they were."""
    started = time.monotonic()
    published = Path(published)
    if not published.is_file():
        raise PostgresPublishError(f"no published warehouse at {published}: run `aftersales run` first")
    duck = duckdb.connect()
    try:
        duck.execute(f"attach '{_escape(str(published))}' as pub (read_only)")
        relations = [_Relation(s, t, cols) for (s, t), cols in sorted(_relations(duck, "pub").items())]
        stores = _stores(duck)
        try:
            conn = psycopg.connect(dsn, autocommit=True)
        except psycopg.Error as e:
            raise PostgresPublishError(f"cannot connect to the PostgreSQL server: {e}".strip()) from e
        with conn, tempfile.TemporaryDirectory(prefix=".pg-publish-", dir=published.parent) as scratch:
            _prepare(conn, stores)
            copied, kept, copy_seconds = _load_staging(conn, duck, relations, Path(scratch), incremental)
            _swap(conn)
            _drop_old(conn)
    finally:
        duck.close()
    return PostgresPublished(len(relations), copied, kept, time.monotonic() - started, copy_seconds)


def _stores(duck: duckdb.DuckDBPyConnection) -> list[Store]:
    try:
        rows = duck.execute("select store_code, region from pub.marts.dim_stores order by store_code").fetchall()
    except duckdb.Error as e:
        raise PostgresPublishError(f"the published warehouse has no readable marts.dim_stores: {e}") from e
    return [Store(code, region) for code, region in rows]


def _prepare(conn: psycopg.Connection, stores: list[Store]) -> None:
    """Remove what a failed publish left, and make sure every published store
    has its roles and scopes (the policies name them)."""
    with conn.transaction():
        for prefix in (STAGING_PREFIX, OLD_PREFIX):
            for schema in SWAPPED_SCHEMAS:
                conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(prefix + schema)))
        try:
            sync_roles(conn, stores)
        except (psycopg.Error, ValueError) as e:
            raise PostgresPublishError(f"cannot create the store, region and group roles: {e}") from e


def _load_staging(conn, duck, relations: list[_Relation], scratch: Path, incremental: bool) -> tuple[int, int, float]:
    """Fill the staging schemas in one transaction; (rows copied, rows kept, seconds copying)."""
    copied = kept = 0
    copy_seconds = 0.0
    current = "the staging schemas"
    try:
        with conn.transaction():
            live = _live_fingerprints(conn) if incremental else {}
            for schema in SWAPPED_SCHEMAS:
                staging = sql.Identifier(STAGING_PREFIX + schema)
                conn.execute(sql.SQL("create schema {}").format(staging))
                if schema != FINGERPRINT_SCHEMA:
                    conn.execute(sql.SQL("grant usage on schema {} to {}").format(staging, sql.Identifier(ANALYST_ROLE)))
            conn.execute(sql.SQL(
                "create table {}.fingerprints (schema_name text, table_name text, month_end date, "
                "columns text, row_count bigint, fingerprint numeric)").format(
                sql.Identifier(STAGING_PREFIX + FINGERPRINT_SCHEMA)))
            for relation in relations:
                current = relation.name
                new = _fingerprints(duck, relation)
                unchanged = _unchanged_months(relation, new, live)
                _create_table(conn, relation)
                if unchanged:
                    kept += _copy_server_side(conn, relation, unchanged)
                t0 = time.monotonic()
                copied += _copy_from_duckdb(conn, duck, relation, unchanged, scratch)
                copy_seconds += time.monotonic() - t0
                apply_access(conn, relation.schema, relation.table, [c for c, _ in relation.columns],
                             loaded_in=STAGING_PREFIX + relation.schema)
                _record_fingerprints(conn, relation, new)
    except (psycopg.Error, duckdb.Error, ValueError, OSError) as e:
        raise PostgresPublishError(
            f"publishing {current} to PostgreSQL failed, the server keeps the last good marts: "
            f"{type(e).__name__}: {str(e).strip()}"
        ) from e
    return copied, kept, copy_seconds


def _create_table(conn, relation: _Relation) -> None:
    columns = sql.SQL(", ").join(
        sql.SQL("{} " + postgres_type(t, column=f"{relation.name}.{c}")).format(sql.Identifier(c))
        for c, t in relation.columns
    )
    conn.execute(sql.SQL("create table {} ({})").format(_staging(relation), columns))


def _copy_server_side(conn, relation: _Relation, unchanged: list) -> int:
    """Copy the unchanged months (or the whole relation: [None]) from the live relation."""
    source = sql.Identifier(relation.schema, relation.table)
    query = sql.SQL("insert into {} select * from {}").format(_staging(relation), source)
    if unchanged != [None]:
        query += sql.SQL(" where {} = any(%s)").format(sql.Identifier(MONTH_COLUMN))
    return conn.execute(query, [unchanged] if unchanged != [None] else None).rowcount


def _copy_from_duckdb(conn, duck, relation: _Relation, unchanged: list, scratch: Path) -> int:
    """COPY the rows not kept server-side: DuckDB writes them as CSV, psycopg streams the file."""
    if unchanged == [None]:
        return 0
    names = ", ".join(_quote(c) for c, _ in relation.columns)
    select = f"select {names} from pub.{_quote(relation.schema)}.{_quote(relation.table)}"
    if unchanged:
        months = ", ".join(f"date '{m.isoformat()}'" for m in unchanged)
        select += f" where {_quote(MONTH_COLUMN)} is null or {_quote(MONTH_COLUMN)} not in ({months})"
    csv = scratch / f"{relation.schema}.{relation.table}.csv"
    (rows,) = duck.execute(f"copy ({select}) to '{_escape(str(csv))}' (format csv, header false)").fetchone()
    copy = sql.SQL("copy {} ({}) from stdin (format csv)").format(
        _staging(relation), sql.SQL(", ").join(sql.Identifier(c) for c, _ in relation.columns))
    with conn.cursor() as cur, cur.copy(copy) as sink, open(csv, "rb") as source:
        while chunk := source.read(_COPY_CHUNK):
            sink.write(chunk)
    csv.unlink()
    return rows


def _fingerprints(duck, relation: _Relation) -> dict:
    """month_end (None: the whole relation) -> (row count, fingerprint)."""
    source = f"pub.{_quote(relation.schema)}.{_quote(relation.table)}"
    fingerprint = "coalesce(sum(hash(r)::hugeint), 0)::varchar"
    if relation.by_month:
        rows = duck.execute(
            f"select {_quote(MONTH_COLUMN)}, count(*), {fingerprint} from {source} r where {_quote(MONTH_COLUMN)} "
            "is not null group by 1").fetchall()
    else:
        rows = [(None, *duck.execute(f"select count(*), {fingerprint} from {source} r").fetchone())]
    return {month: (count, int(value)) for month, count, value in rows}


def _unchanged_months(relation: _Relation, new: dict, live: dict) -> list:
    """The months (or [None]: the whole relation) the live relation holds as
    the new one does, with the same columns."""
    held = live.get((relation.schema, relation.table))
    if not held or held[0] != relation.signature:
        return []
    return sorted((m for m, value in new.items() if held[1].get(m) == value), key=lambda m: (m is not None, m))


def _live_fingerprints(conn) -> dict:
    """(schema, table) -> (column signature, {month: (count, fingerprint)}) of the live relations."""
    if conn.execute("select to_regclass(%s)", [f"{FINGERPRINT_SCHEMA}.fingerprints"]).fetchone()[0] is None:
        return {}
    live: dict = {}
    for schema, table, month, columns, count, value in conn.execute(
        sql.SQL("select schema_name, table_name, month_end, columns, row_count, fingerprint from {}.fingerprints")
        .format(sql.Identifier(FINGERPRINT_SCHEMA))
    ):
        live.setdefault((schema, table), (columns, {}))[1][month] = (count, int(value))
    return live


def _record_fingerprints(conn, relation: _Relation, new: dict) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            sql.SQL("insert into {}.fingerprints values (%s, %s, %s, %s, %s, %s)").format(
                sql.Identifier(STAGING_PREFIX + FINGERPRINT_SCHEMA)),
            [(relation.schema, relation.table, month, relation.signature, count, value)
             for month, (count, value) in new.items()],
        )


def _swap(conn) -> None:
    """Rename the live schemas away and the staging ones in, holding every live relation's lock."""
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
            return
        except psycopg.errors.LockNotAvailable as e:
            if time.monotonic() > deadline:
                raise PostgresPublishError(
                    f"could not swap the new marts in: readers held the live relations for "
                    f"{SWAP_DEADLINE_SECONDS:.0f} s ({e}); the server keeps the last good marts") from e
            time.sleep(0.05)
        except psycopg.Error as e:
            raise PostgresPublishError(f"swapping the new marts in failed, the server keeps the last good marts: {e}") from e


def _drop_old(conn) -> None:
    with conn.transaction():
        for schema in SWAPPED_SCHEMAS:
            conn.execute(sql.SQL("drop schema if exists {} cascade").format(sql.Identifier(OLD_PREFIX + schema)))


def _staging(relation: _Relation) -> sql.Identifier:
    return sql.Identifier(STAGING_PREFIX + relation.schema, relation.table)


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _escape(value: str) -> str:
    return value.replace("'", "''")
