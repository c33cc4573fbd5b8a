"""The SQL behind the pages: one file per section in dashboards/queries,
readable and runnable as is in DuckDB against the published warehouse."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb

QUERIES_DIR = Path(__file__).resolve().parent / "queries"

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


class DashboardError(RuntimeError):
    """The warehouse cannot be rendered (missing, locked, marts not built)."""


@lru_cache(maxsize=None)
def load_query(name: str) -> str:
    return (QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8")


def run_query(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[dict[str, Any]]:
    """Run queries/<name>.sql with the named parameters it uses ($store_code ...)."""
    sql = load_query(name)
    used = set(_PARAM.findall(sql))
    missing = used - params.keys()
    if missing:
        raise DashboardError(f"queries/{name}.sql needs parameters {sorted(missing)}")
    try:
        cur = con.execute(sql, {k: params[k] for k in used}) if used else con.execute(sql)
        columns = [d[0] for d in cur.description]
        return [dict(zip(columns, row)) for row in cur.fetchall()]
    except duckdb.Error as exc:
        raise DashboardError(f"queries/{name}.sql failed: {exc}") from exc


def relation_exists(con: duckdb.DuckDBPyConnection, schema: str, name: str) -> bool:
    return bool(
        con.execute(
            "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
            [schema, name],
        ).fetchone()[0]
    )
