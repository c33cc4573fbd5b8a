"""A run with nothing to do. When no landing file is new or changed since the
last run that completed everything (loaded, built, checked, published,
rendered, sent to the server), and the code and settings are those it ran
with, a new run would rebuild, re-check and re-send the same build: it is
skipped instead, in the time it takes to stat the landing.

The last complete run is recorded in the working copy (`job.last_run`, one
row; the schema is not published). Every run that is not skipped clears the
record before it starts, so a run that fails part-way (a failed check, a
server that was down, a disk that filled) leaves none, and the next run does
the whole job again."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb

from orchestration.file_modes import owner_only
from sources.landing import LandingFile

SCHEMA = "job"
TABLE = f"{SCHEMA}.last_run"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
# The code a run executes: the loader, the dbt project, the expectations, the
# pages, the score and the job itself. Generated folders are not code.
CODE_DIRS = ("orchestration", "sources", "dbt_project", "expectations", "dashboards", "churn_score")
NOT_CODE = {"__pycache__", "target", "logs", "dbt_packages"}


def run_inputs(*, pseudonym_key: str, dashboards_dir: Path, data_docs_dir: Path, postgres_server: str,
               engine: str) -> str:
    """What a run's outcome depends on besides the landing and the warehouse:
    the project's code, the pseudonym key (hashed), where the pages go,
    which server the relations are sent to (host:port/dbname) and the engine
    the models build on."""
    code = hashlib.sha256()
    for folder in CODE_DIRS:
        for path in sorted((PROJECT_ROOT / folder).rglob("*")):
            relative = path.relative_to(PROJECT_ROOT)
            if path.is_file() and not NOT_CODE & set(relative.parts):
                code.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return json.dumps({
        "code": code.hexdigest(),
        "pseudonym_key": hashlib.sha256(pseudonym_key.encode()).hexdigest(),
        "dashboards_dir": str(dashboards_dir),
        "data_docs_dir": str(data_docs_dir),
        "postgres_server": postgres_server,
        "engine": engine,
    }, sort_keys=True)


def unchanged_build(files: list[LandingFile], working: Path, published: Path, inputs: str, postgres_dsn: str,
                    dashboards_index: Path, data_docs_index: Path) -> str | None:
    """The build_id of the published build when the run may be skipped: the
    last complete run had these inputs, nothing was loaded or built since, it
    is the build analysts read (file, pages, server), and every landing file
    (`files`, sources.landing.discover's) is the version loaded. Else None:
    the run does the whole job."""
    from orchestration.publish import published_build
    from sources.loader import unchanged_files

    if not (working.is_file() and published.is_file() and dashboards_index.is_file() and data_docs_index.is_file()):
        return None
    with duckdb.connect(str(working), read_only=True) as con:
        if not _has_table(con, SCHEMA, "last_run"):
            return None
        recorded = con.execute(f"select build_id, inputs, load_attempts from {TABLE}").fetchone()
        if recorded is None or recorded[1] != inputs:
            return None
        build_id, _, load_attempts = recorded
        (last_build,) = con.execute("select any_value(build_id) from intermediate.int_build_window").fetchone()
        (attempts,) = con.execute("select count(*) from raw.load_log").fetchone()
        if last_build != build_id or attempts != load_attempts:
            return None  # something ran since (dagster dev, a run that failed)
        if not unchanged_files(con, files):
            return None
    if published_build(published) != build_id:
        return None
    if postgres_dsn and not _server_holds(postgres_dsn, build_id):
        return None
    return build_id


def forget(working: Path) -> None:
    """Clear the record: this run does the job, and only its success may skip the next."""
    if not working.is_file():
        return
    with owner_only(), duckdb.connect(str(working)) as con:
        con.execute(f"drop table if exists {TABLE}")


def record(working: Path, published: Path, inputs: str) -> None:
    """Record a run that did everything: the build it published, its inputs
    and the number of load attempts the raw layer has logged."""
    from orchestration.publish import published_build

    build_id = published_build(published)
    with owner_only(), duckdb.connect(str(working)) as con:
        con.execute(f"create schema if not exists {SCHEMA}")
        con.execute(
            f"""create or replace table {TABLE} as
                select ?::varchar as build_id, ?::varchar as inputs,
                       (select count(*) from raw.load_log) as load_attempts, current_timestamp as recorded_at""",
            [build_id, inputs],
        )


def _server_holds(dsn: str, build_id: str) -> bool:
    """Whether the PostgreSQL server holds that build; False when it cannot be asked."""
    import psycopg

    from orchestration.postgres import fingerprints

    try:
        with psycopg.connect(dsn, connect_timeout=10) as conn:
            return fingerprints.held_build(conn) == build_id
    except psycopg.Error:
        return False


def _has_table(con: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    return con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?", [schema, table]
    ).fetchone()[0] > 0
