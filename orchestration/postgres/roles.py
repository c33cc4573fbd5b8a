"""`aftersales postgres-roles`: create or update the server's roles from the
stores of `<landing>/reference/stores.csv`, read by the loader as the job
reads it (either header language, UTF-8 or GB18030)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import psycopg

from orchestration.postgres.access import Store, sync_roles
from sources.contract import STORES
from sources.landing import discover
from sources.loader import load_files


class RolesError(Exception):
    """The roles were not changed; the message says why."""


def reference_stores(landing: Path) -> list[Store]:
    files = discover(Path(landing), tables=(STORES,))
    if not files:
        raise RolesError(f"{landing}/reference/stores.csv is missing: the group's stores are unknown")
    with duckdb.connect() as con:
        result = load_files(con, files)
        if result.rejected:
            raise RolesError("; ".join(f.message for f in result.rejected))
        if result.rows_quarantined:
            raise RolesError(f"{files[0].path}: {result.rows_quarantined} rows cannot be read "
                             "(run `aftersales run` to see each row's problem)")
        rows = con.execute(f"select distinct store_code, region from raw.{STORES.name} order by 1").fetchall()
    return [Store(code, region) for code, region in rows]


def create_roles(dsn: str, landing: Path) -> tuple[list[Store], list[str]]:
    """(the stores, the roles created) after syncing the server's roles in one transaction."""
    stores = reference_stores(landing)
    try:
        with psycopg.connect(dsn, autocommit=True) as conn, conn.transaction():
            return stores, sync_roles(conn, stores)
    except psycopg.Error as e:
        raise RolesError(f"the PostgreSQL server refused: {str(e).strip()}") from e
