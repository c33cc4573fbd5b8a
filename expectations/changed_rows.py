"""The rows a check of an incremental build reads: per table of
:data:`expectations.suites.CHANGED_ROWS`, the query of the rows the last
build wrote (docs/decisions.md, "Incremental builds").

A table's rows are read where the build kept them
(:data:`expectations.suites.WRITTEN_ROWS`), else fetched by row id
(:func:`expectations.suites.rows_where`).
A view has no row ids: filtering a customer-month view read every column of
its 20M rows (100 stores) to keep the day's changed ones. Those views add
columns to the rows of their tables (VALIDATED_THROUGH_VIEWS), so their
changed rows are the view's own query run over each table's changed rows;
the view's condition is applied on top, so the result is never more than
the plain filter selects.
"""

from __future__ import annotations

import re

from expectations.suites import BUILD_WINDOW, CHANGED_ROWS, VALIDATED_THROUGH_VIEWS, WRITTEN_ROWS, rows_where
from expectations.view_queries import view_query


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
    sources = VALIDATED_THROUGH_VIEWS.get(table, ())
    query = None
    if sources and all(source in kinds and source in CHANGED_ROWS for source in sources):
        query = _view_query_over(con, table, {source: _table_rows(source, CHANGED_ROWS[source], kinds)
                                              for source in sources})
    return f"SELECT * FROM ({query or qualified(table)}) WHERE {condition}"


def _table_rows(table: str, condition: str, kinds: dict[str, str]) -> str:
    """The rows of a table the last build wrote: where the build kept them
    (WRITTEN_ROWS), else fetched by row id."""
    written = WRITTEN_ROWS.get(table)
    if written in kinds:
        return f"SELECT * FROM {qualified(written)}"
    return rows_where(qualified(table), condition)


def _view_query_over(con, view: str, rows: dict[str, str]) -> str | None:
    """The view's query with its one reference to each table of `rows`
    replaced by that table's subquery; None when the view names one of them
    other than once (the caller then filters the view itself: slower, the
    same rows)."""
    schema, name = view.split(".", 1)
    found = con.execute(
        "SELECT sql FROM duckdb_views() WHERE database_name = current_database() "
        "AND schema_name = ? AND view_name = ?", [schema, name]).fetchone()
    query = view_query(found[0]) if found else None
    if query is None:
        return None
    # Every reference in one pass, so that no subquery is searched for
    # another table; each as DuckDB prints it (each part bare or quoted).
    sources = list(rows)
    part = r'(?:{0}|"{0}")'
    reference = re.compile(r'(?<![\w."])(?:' + "|".join(
        f"(?P<t{i}>" + r"\.".join(part.format(re.escape(p)) for p in source.split(".", 1)) + ")"
        for i, source in enumerate(sources)) + r')(?![\w"])')

    def source_of(match: re.Match) -> str:
        return sources[int(match.lastgroup[1:])]

    if sorted(source_of(m) for m in reference.finditer(query)) != sorted(sources):
        return None
    return reference.sub(lambda m: f"({rows[source_of(m)]})", query)


def qualified(table: str) -> str:
    """'schema.name' quoted for SQL."""
    return ".".join('"' + p.replace('"', '""') + '"' for p in table.split(".", 1))
