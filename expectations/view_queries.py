"""The query of a DuckDB view, read from the statement DuckDB holds for it:
publishing writes the analyst views again from it (orchestration/
analyst_relations.py) and the checks read a view's changed rows through it
(expectations/changed_rows.py)."""

from __future__ import annotations

import re

# What follows a view's name in the statement DuckDB holds for it (no column
# list: dbt writes none).
_VIEW_QUERY = re.compile(r"\s*CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\s+\S+\s+AS\s+(.*?)\s*;?\s*$", re.S | re.I)


def view_query(statement: str) -> str | None:
    """The query of a `CREATE VIEW ... AS query` statement; None when it has
    another form."""
    found = _VIEW_QUERY.match(statement)
    return found.group(1) if found else None
