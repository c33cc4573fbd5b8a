"""The server's index on each relation updated by changed rows, and the
deletes that use it.

A day changes a few rows of the largest marts (fct_customer_month holds 20M
rows at 100 stores): their condition (expectations.suites.CHANGED_ROWS_ANY_OF)
is a list of keys `(store_code, vin, month_end) IN (...)` or the months of the
data date `month_end >= (...)`. Deleted with one statement, the `OR` of the
two makes PostgreSQL scan the whole table. Each part deleted on its own, with
the build window's scalar written in as a constant, goes through one index on
the month and the key columns: the month's rows are a range of it and each
key a lookup (docs/decisions.md, "The server deletes a day's rows through an
index").
"""

from __future__ import annotations

import re

from psycopg import sql

from orchestration.publish import MONTH_COLUMN

# `(a, b, c) IN (...)`: the columns a part matches by key.
_KEYS = re.compile(r"^\(([\w, ]+)\) IN \(")
# A scalar of the one-row build window, read by a part from the server's copy.
_BUILD_WINDOW_SCALAR = re.compile(r"\(SELECT (\w+) FROM pg_temp\.int_build_window\)")


def changed_rows_parts(relation: str) -> tuple[str, ...]:
    """The parts of the relation's changed-rows condition; empty when it has none."""
    from expectations.suites import CHANGED_ROWS_ANY_OF

    return CHANGED_ROWS_ANY_OF.get(relation, ())


def index_columns(relation: str, columns: list[str]) -> tuple[str, ...]:
    """The columns of the relation's index: its month first (a month's rows are
    one range), then the other columns its condition matches by key; empty for
    a relation without a changed-rows condition or a month column."""
    parts = changed_rows_parts(relation)
    if not parts or MONTH_COLUMN not in columns:
        return ()
    indexed = [MONTH_COLUMN]
    for part in parts:
        keys = _KEYS.match(part)
        if keys:
            indexed += [c.strip() for c in keys.group(1).split(",") if c.strip() not in indexed]
    return tuple(indexed)


def create_index(conn, schema: str, table: str, columns: tuple[str, ...]) -> None:
    if columns:
        conn.execute(sql.SQL("create index on {} ({})").format(
            sql.Identifier(schema, table), sql.SQL(", ").join(map(sql.Identifier, columns))))


def delete_changed_rows(conn, schema: str, table: str, parts: tuple[str, ...]) -> None:
    """Delete the rows any part selects, one statement per part. A part's
    intermediate relations are the server's temporary copies (pg_temp.<name>)."""
    for part in parts:
        conn.execute(sql.SQL("delete from {} where {}").format(
            sql.Identifier(schema, table), sql.SQL(_constants(conn, part))))


def _constants(conn, condition: str) -> str:
    """The condition with each scalar of the build window replaced by its value:
    the planner then knows a month range is the last month or two, not a third
    of the table, and takes the index."""
    def value(match: re.Match) -> str:
        (scalar,) = conn.execute(sql.SQL("select {} from pg_temp.int_build_window").format(
            sql.Identifier(match.group(1)))).fetchone()
        return sql.Literal(scalar).as_string(conn)

    return _BUILD_WINDOW_SCALAR.sub(value, condition)
