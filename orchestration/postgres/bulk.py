"""The bulk path: DuckDB writes a relation's rows as CSV into an owner-only
scratch folder, psycopg streams the file to `COPY ... FROM STDIN`. DuckDB's
CSV keeps NULL (an empty field) apart from the empty string (`""`), and
writes decimals, dates and doubles as PostgreSQL reads them back exactly."""

from __future__ import annotations

from pathlib import Path

import duckdb
from psycopg import sql

from orchestration.postgres.relations import Relation, quote

_CHUNK = 1 << 20


def copy_rows(conn, duck: duckdb.DuckDBPyConnection, relation: Relation, *, into: str, where: str | None,
              scratch: Path) -> int:
    """COPY the relation's rows (those `where` selects, a DuckDB condition)
    into the table of the same name in schema `into`; return how many."""
    names = ", ".join(quote(c) for c in relation.column_names)
    select = f"select {names} from {relation.duckdb_source()}" + (f" where {where}" if where else "")
    csv = scratch / f"{relation.schema}.{relation.table}.csv"
    escaped = str(csv).replace("'", "''")
    (rows,) = duck.execute(f"copy ({select}) to '{escaped}' (format csv, header false)").fetchone()
    copy = sql.SQL("copy {} ({}) from stdin (format csv)").format(
        sql.Identifier(into, relation.table), sql.SQL(", ").join(map(sql.Identifier, relation.column_names)))
    try:
        with conn.cursor() as cur, cur.copy(copy) as sink, open(csv, "rb") as source:
            while chunk := source.read(_CHUNK):
                sink.write(chunk)
    finally:
        csv.unlink(missing_ok=True)
    return rows
