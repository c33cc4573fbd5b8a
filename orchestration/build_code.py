"""Whether the working copy was built by other dbt code than this run's.

A build of changed code recomputes every model (int_build_window's
fingerprint holds the project's code version), and it does so with dbt's
`--full-refresh`: the incremental models are then created anew, which is
faster than replacing every row of each, and a model whose columns changed
is rebuilt instead of failing (the incremental models refuse a schema
change: on_schema_change='fail')."""

from __future__ import annotations

from pathlib import Path

import duckdb

from expectations.suites import BUILD_WINDOW


def built_by_other_code(working: Path, code_version: str) -> bool:
    """The working copy's last dbt build ran other code than `code_version`,
    or code that did not record its version. False when it holds no build
    (the first build creates every model anyway)."""
    working = Path(working)
    if not working.is_file():
        return False
    with duckdb.connect(str(working), read_only=True) as con:
        columns = {c for (c,) in con.execute(
            "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
            BUILD_WINDOW.split(".")).fetchall()}
        if not columns:
            return False
        if "code_version" not in columns:
            return True
        row = con.execute(f"select code_version from {BUILD_WINDOW}").fetchone()
    return row is None or row[0] != code_version
