"""The rows a check of an incremental build reads: per table of
:data:`expectations.suites.CHANGED_ROWS`, the query of the rows the last
build wrote (docs/decisions.md, "Incremental builds").

A table's rows are read where the build kept them
(:data:`expectations.suites.WRITTEN_ROWS`), else fetched by row id
(:func:`expectations.suites.rows_where`).
A view has no row ids: filtering a customer-month view read every column of
its 20M rows (100 stores) to keep the day's changed ones. Those views add
columns to the rows of one table each (VALIDATED_THROUGH_VIEWS), so their
changed rows are the view's own query run over the table's changed rows,
fetched by row id; the view's condition is applied on top, so the result is
never more than the plain filter selects.
"""

from __future__ import annotations

import re

from expectations.suites import BUILD_WINDOW, CHANGED_ROWS, VALIDATED_THROUGH_VIEWS, WRITTEN_ROWS, rows_where

# view -> the table whose rows it reads
_VIEW_TABLES = {view: table for table, view in VALIDATED_THROUGH_VIEWS.items()}


def rows_last_written(con, kinds: dict[str, str]) -> dict[str, str]:
    """table -> the query of the rows the last build wrote; empty after a full
    rebuild, or when the warehouse has no incremental build to go by.
    con: a DuckDB connection to the warehouse; kinds: every relation of the
    warehouse ('schema.name') and its table_type."""
    if BUILD_WINDOW not in kinds:
        return {}
    (is_full,) = con.execute(f"SELECT bool_or(is_full_rebuild) FROM {BUILD_WINDOW}").fetchone()
    if is_full is not False:
        return {}
    return {table: _rows(con, table, condition, kinds) for table, condition in CHANGED_ROWS.items() if table in kinds}


def _rows(con, table: str, condition: str, kinds: dict[str, str]) -> str:
    if kinds[table] != "VIEW":
        return _table_rows(table, condition, kinds)
    source, query = _VIEW_TABLES.get(table), None
    if source in kinds and source in CHANGED_ROWS:
        query = _view_query_over(con, table, source, _table_rows(source, CHANGED_ROWS[source], kinds))
    return f"SELECT * FROM ({query or qualified(table)}) WHERE {condition}"


def _table_rows(table: str, condition: str, kinds: dict[str, str]) -> str:
    """The rows of a table the last build wrote: where the build kept them
    (WRITTEN_ROWS), else fetched by row id."""
    written = WRITTEN_ROWS.get(table)
    if written in kinds:
        return f"SELECT * FROM {qualified(written)}"
    return rows_where(qualified(table), condition)


def _view_query_over(con, view: str, source: str, rows: str) -> str | None:
    """The view's query with its one reference to `source` replaced by the
    subquery `rows`; None when the view names `source` other than once (the
    caller then filters the view itself: slower, the same rows)."""
    schema, name = view.split(".", 1)
    found = con.execute(
        "SELECT sql FROM duckdb_views() WHERE database_name = current_database() "
        "AND schema_name = ? AND view_name = ?", [schema, name]).fetchone()
    body = re.fullmatch(r"\s*CREATE\s+VIEW\s+.+?\s+AS\s+(.*?);?\s*", found[0], re.S | re.I) if found else None
    if body is None:
        return None
    # The reference as DuckDB prints it: each part bare or double-quoted.
    part = r'(?:{0}|"{0}")'
    reference = re.compile(r'(?<![\w."])' + r"\.".join(part.format(re.escape(p)) for p in source.split(".", 1))
                           + r'(?![\w"])')
    query, count = reference.subn(lambda _: f"({rows})", body.group(1))
    return query if count == 1 else None


def qualified(table: str) -> str:
    """'schema.name' quoted for SQL."""
    return ".".join('"' + p.replace('"', '""') + '"' for p in table.split(".", 1))
