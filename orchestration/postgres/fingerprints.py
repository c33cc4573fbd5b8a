"""What the server holds, so that a publish sends only what changed: per
relation and month_end (or for the whole relation, when it has no month),
the row count and a fingerprint, the sum of DuckDB's row hashes. A month
whose count and fingerprint are those of the new build is left as it is.
Beside them, the build the relations are of (`aftersales_publish.build`,
ops.build's build_id), so that an update after one incremental build can
replace the rows that build wrote instead (publish.py). The record changes
in the transaction that changes the relations; analysts have no access to it."""

from __future__ import annotations

import datetime as dt

import duckdb
from psycopg import sql

from orchestration.postgres.relations import Relation, quote
from orchestration.publish import MONTH_COLUMN

SCHEMA = "aftersales_publish"
TABLE = "fingerprints"
BUILD_TABLE = "build"

# month_end (None: the whole relation) -> (row count, fingerprint)
Months = dict[dt.date | None, tuple[int, int]]


def compute(duck: duckdb.DuckDBPyConnection, relation: Relation) -> Months:
    """The relation's fingerprints in the published file. Rows without a
    month are not fingerprinted: they are sent on every publish."""
    fingerprint = "coalesce(sum(hash(r)::hugeint), 0)::varchar"
    if relation.by_month:
        month = quote(MONTH_COLUMN)
        rows = duck.execute(f"select {month}, count(*), {fingerprint} from {relation.duckdb_source()} r "
                            f"where {month} is not null group by 1").fetchall()
    else:
        rows = [(None, *duck.execute(f"select count(*), {fingerprint} from {relation.duckdb_source()} r").fetchone())]
    return {month: (count, int(value)) for month, count, value in rows}


def create_table(conn, schema: str) -> None:
    conn.execute(sql.SQL("create table {} (schema_name text, table_name text, month_end date, signature text, "
                         "row_count bigint, fingerprint numeric)").format(sql.Identifier(schema, TABLE)))
    _create_build_table(conn, schema)


def _create_build_table(conn, schema: str) -> None:
    # If not exists: a server published before the build was recorded has the fingerprints alone.
    conn.execute(sql.SQL("create table if not exists {} (build_id text)").format(sql.Identifier(schema, BUILD_TABLE)))


def held_build(conn) -> str | None:
    """The build_id of the relations the server holds; None when unknown."""
    if conn.execute("select to_regclass(%s)", [f"{SCHEMA}.{BUILD_TABLE}"]).fetchone()[0] is None:
        return None
    row = conn.execute(sql.SQL("select build_id from {}").format(sql.Identifier(SCHEMA, BUILD_TABLE))).fetchone()
    return row[0] if row else None


def record_build(conn, build_id: str | None, *, schema: str = SCHEMA) -> None:
    """Replace the build_id recorded in `schema` (None: a file without ops.build, no build known)."""
    _create_build_table(conn, schema)
    table = sql.Identifier(schema, BUILD_TABLE)
    conn.execute(sql.SQL("delete from {}").format(table))
    if build_id is not None:
        conn.execute(sql.SQL("insert into {} values (%s)").format(table), [build_id])


def held(conn) -> dict[tuple[str, str], tuple[str, Months]]:
    """(schema, table) -> (signature, months) of what the server holds; empty when nothing was published."""
    if conn.execute("select to_regclass(%s)", [f"{SCHEMA}.{TABLE}"]).fetchone()[0] is None:
        return {}
    live: dict[tuple[str, str], tuple[str, Months]] = {}
    for schema, table, month, signature, count, value in conn.execute(
        sql.SQL("select schema_name, table_name, month_end, signature, row_count, fingerprint from {}")
        .format(sql.Identifier(SCHEMA, TABLE))
    ):
        months = live.setdefault((schema, table), (signature, {}))[1]
        if count is not None:  # else the row of a relation without rows: its signature alone
            months[month] = (count, int(value))
    return live


def record(conn, relation: Relation, months: Months, *, schema: str = SCHEMA) -> None:
    """Replace the relation's fingerprints in `schema` (the live one, or a staging one)."""
    table = sql.Identifier(schema, TABLE)
    conn.execute(sql.SQL("delete from {} where schema_name = %s and table_name = %s").format(table),
                 [relation.schema, relation.table])
    with conn.cursor() as cur:
        cur.executemany(
            sql.SQL("insert into {} values (%s, %s, %s, %s, %s, %s)").format(table),
            [(relation.schema, relation.table, month, relation.signature, count, value)
             for month, (count, value) in months.items()]
            # A relation by month without rows has no month: its signature is held all the same.
            or [(relation.schema, relation.table, None, relation.signature, None, None)],
        )
