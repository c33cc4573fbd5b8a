"""How the server finds the rows an update in place replaces in the marts
updated by changed rows (expectations.suites.CHANGED_ROWS): each such table
has one index, on its month and the key its condition matches rows on, and
the update deletes with each alternative of the condition on its own, so
that each can use that index.

A condition's alternatives are joined by OR (the changed keys, or the months
whose as-of date moved); PostgreSQL cannot use an index for an OR one of
whose arms is `IN (subquery)`, so the one delete read the whole table: at 40
stores, 2.6 s for fct_customer_month against 0.2 s for the two deletes
through the index (docs/decisions.md, "Serving from PostgreSQL").
"""

from __future__ import annotations

import re

from psycopg import sql

from orchestration.publish import MONTH_COLUMN

# A condition's leading `(a, b, c) IN (`: the key it matches rows on.
_KEY_IN = re.compile(r"^\(([A-Za-z_][A-Za-z0-9_]*(?:\s*,\s*[A-Za-z_][A-Za-z0-9_]*)*)\)\s+IN\s+\(", re.IGNORECASE)


def index_columns(relation: str) -> list[str]:
    """The columns of the index the update in place deletes `relation`'s rows
    by, month first (the months whose as-of date moved are a range of it);
    [] for a relation not updated by changed rows."""
    from expectations.suites import CHANGED_ROWS

    condition = CHANGED_ROWS.get(relation)
    match = _KEY_IN.match(condition) if condition else None
    if not match:
        return []
    key = [c.strip() for c in match.group(1).split(",")]
    return [MONTH_COLUMN, *(c for c in key if c != MONTH_COLUMN)]


def create_index(conn, schema: str, table: str, columns: list[str]) -> None:
    conn.execute(sql.SQL("create index on {} ({})").format(
        sql.Identifier(schema, table), sql.SQL(", ").join(map(sql.Identifier, columns))))


def alternatives(condition: str) -> list[str]:
    """The parts of `condition` joined by OR outside any parentheses: deleting
    with each in turn deletes what the whole condition selects."""
    parts, depth, start = [], 0, 0
    for i, char in enumerate(condition):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif depth == 0 and condition[i:i + 4].upper() == " OR ":
            parts.append(condition[start:i].strip())
            start = i + 4
    parts.append(condition[start:].strip())
    return parts
