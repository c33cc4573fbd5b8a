"""Reading the same relation from the published DuckDB file and from the
server, as comparable sorted rows, for the PostgreSQL tests."""

from __future__ import annotations

import math
from pathlib import Path

import duckdb

ANALYST_SCHEMAS = ("marts", "ops", "seeds")


def duckdb_relations(published: Path) -> dict[tuple[str, str], list[str]]:
    """(schema, table) -> column names, of the published file, read from its catalog."""
    with duckdb.connect(str(published), read_only=True) as con:
        rows = con.execute(
            "select schema_name, table_name, column_name from duckdb_columns() "
            "where schema_name in ('marts', 'ops', 'seeds') order by schema_name, table_name, column_index"
        ).fetchall()
    relations: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in rows:
        relations.setdefault((schema, table), []).append(column)
    return relations


def duckdb_views(published: Path) -> set[tuple[str, str]]:
    """(schema, view) of the published file's views (the customer-month marts): their rows are their tables'."""
    with duckdb.connect(str(published), read_only=True) as con:
        return set(con.execute(
            "select schema_name, view_name from duckdb_views() where not internal "
            "and schema_name in ('marts', 'ops', 'seeds')").fetchall())


def _cell(value):
    # NaN is not equal to itself; compare it as a marker.
    return "NaN" if isinstance(value, float) and math.isnan(value) else value


def _sorted(rows) -> list[tuple]:
    rows = [tuple(_cell(v) for v in row) for row in rows]
    return sorted(rows, key=lambda row: tuple((v is None, str(v)) for v in row))


def duckdb_rows(published: Path, relation: str, where: str = "true") -> list[tuple]:
    with duckdb.connect(str(published), read_only=True) as con:
        return _sorted(con.execute(f"select * from {relation} where {where}").fetchall())


def server_rows(conn, relation: str) -> list[tuple]:
    return _sorted(conn.execute(f"select * from {relation}").fetchall())
