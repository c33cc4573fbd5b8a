"""Write, audit, publish: the daily job builds in a working copy of the
warehouse, and analysts read a published file that holds the analyst
relations only and changes only by an atomic swap, after the critical Great
Expectations checks of the marts pass. In the Dagster job those checks are
the blocking `gx_expectations` asset checks, which keep the publish step from
running when they fail; `publish` then only writes and renames
(audit_first=False). Called on its own, `publish` audits first.

- The **working copy** (``warehouse.work.duckdb`` beside the published file)
  is where raw loads, dbt and the checks write: raw, staging, intermediate,
  seeds, marts, ops. It holds real names and phones, so it is owner-only
  (orchestration/file_modes.py) and read by data engineers and the call-list
  export. It persists between runs (it holds the raw layer); when it is
  missing the job loads the whole landing again.
- The **published** file (AFTERSALES_DUCKDB) holds the schemas of
  `ANALYST_SCHEMAS` and nothing else (SPEC section 9): analysts, BI tools and
  the dashboards open it read-only. The job never opens it for writing, so a
  reader is never blocked by the job's write lock.
- **Publishing** writes those relations into a new file next to the
  published one, table by table (DuckDB reads the working copy and writes
  the new file in bulk), checkpoints and fsyncs it and renames it over the
  published file (``os.replace``, atomic on one filesystem). A reader that
  opened the old file keeps reading it to the end of its connection; the
  next connection sees the new one. Never a half-built state. Its cost
  follows the marts, not the raw layer.
- **Views** of the analyst schemas (the customer-month marts, views over
  their stored tables) are written after the tables, from their SQL: they
  name their own schema's relations without a database, so they read the
  published file's tables wherever it is attached.
- **Publishing changed months only** (`months_from`): for a relation with a
  `month_end` column whose months before M cannot have changed, the new file
  starts as a copy of the published one and only that relation's rows with
  month_end >= M are replaced; every relation not named is rewritten whole.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from expectations.suites import BUILD_WINDOW, CHANGED_ROWS, WRITTEN_ROWS, rows_where
from orchestration import publish_base, settings
from orchestration.analyst_relations import ANALYST_SCHEMAS, analyst_tables, analyst_views, user_schemas
from orchestration.file_modes import PUBLISHED_MODE


# The build's record in the working copy, which publishing reads: the window
# the build recomputed, and the builds completed before it.
BUILDS_COMPLETED = "intermediate.int_builds_completed"
BUILD_RECORD_RELATIONS = (BUILD_WINDOW, BUILDS_COMPLETED)

# The column a relation's monthly partitions are told apart by.
MONTH_COLUMN = "month_end"


class NotPublished(Exception):
    """The audit failed: the last good warehouse stays published."""


@dataclass(frozen=True)
class Published:
    path: Path
    bytes: int
    published_at: dt.datetime
    relations: int  # relations written (whole or changed months)
    # Where the publish's time went: "base" (waiting for or making the copy it
    # updates), "write" (the relations), "sync" (to disk, then the swap).
    seconds: dict[str, float] = field(default_factory=dict)
    base: str = "new file"  # what it started from: "new file", "copy made during dbt", "copied now"


def working_copy_path(published: Path) -> Path:
    """warehouse.duckdb -> warehouse.work.duckdb, beside it."""
    published = Path(published)
    return published.with_name(f"{published.stem}.work{published.suffix or '.duckdb'}")


def audit(working: Path) -> list[str]:
    """The critical failures of the mart suites on the working copy; empty when it may be published."""
    from expectations.runner import validate_all
    from expectations.suites import MART_TABLES

    outcomes = validate_all(working, list(MART_TABLES))
    return [outcome.summary() for outcome in outcomes if outcome.critical_failed]


def publish(
    working: Path,
    published: Path,
    *,
    audit_first: bool = True,
    months_from: Mapping[str, dt.date] | None = None,
    rows_changed: Mapping[str, str] | None = None,
) -> Published:
    """Audit the working copy (unless the caller has: audit_first=False) and
    publish its analyst relations; raise NotPublished, leaving the published
    file as it was, when the audit fails.

    months_from maps a relation ("marts.kpi_store_month") to the first month
    whose rows may have changed: only its rows with month_end >= that month
    are replaced in a copy of the published file. Without it (the default),
    or when the published file cannot serve as the base (missing, holding a
    schema analysts may not read, or the relation's columns changed), every
    relation is written whole into an empty file.

    rows_changed maps a relation to a SQL condition that selects, in the
    working copy and in the published file alike, the rows to replace (the
    rows an incremental build wrote: expectations.suites.CHANGED_ROWS, whose
    subqueries read the working copy); it is used like months_from."""
    working, published = Path(working), Path(published)
    failures = audit(working) if audit_first else []
    if failures:
        raise NotPublished(
            f"{published} was not updated (analysts keep the last good warehouse): "
            f"critical checks failed on the new build:\n" + "\n".join(failures)
        )
    published.parent.mkdir(parents=True, exist_ok=True)
    partial = published.with_name(f".{published.name}.partial")
    _remove_database(partial)
    seconds, base_kind, started = {}, "new file", time.monotonic()
    try:
        conditions = {name: f"{MONTH_COLUMN} >= date '{month.isoformat()}'" for name, month in (months_from or {}).items()}
        conditions.update(rows_changed or {})
        base = published if conditions and published.is_file() else None
        if base is not None:
            # The copy made while dbt built, when there is one.
            made_during_dbt = publish_base.take(published, partial)
            base_kind = "copy made during dbt" if made_during_dbt else "copied now"
        else:
            publish_base.discard(published)
        seconds["base"] = _lap(started)
        relations = _write_analyst_relations(working, partial, conditions if base else {}, set(months_from or ()))
        seconds["write"] = _lap(started, seconds)
        with open(partial, "rb") as fh:
            os.fsync(fh.fileno())
        os.chmod(partial, PUBLISHED_MODE)
        os.replace(partial, published)
        _fsync_dir(published.parent)
        seconds["sync"] = _lap(started, seconds)
    finally:
        _remove_database(partial)
    return Published(published, published.stat().st_size, dt.datetime.now(), relations, seconds, base_kind)


def _lap(started: float, laps: dict[str, float] | None = None) -> float:
    """Seconds since `started` less the laps already taken."""
    return round(time.monotonic() - started - sum((laps or {}).values()), 2)


def _write_analyst_relations(working: Path, dest: Path, conditions: dict[str, str], by_month: set[str]) -> int:
    """Write the analyst relations of `working` into the DuckDB file `dest`
    (empty, or a copy of the published file in which the rows each condition
    selects are replaced); return how many relations were written."""
    # Bounded like every other DuckDB of the job: unbounded (80% of the machine), copying a
    # 100-store group's marts took the job process to 8.9 GiB.
    # One checkpoint, at the end: DuckDB's default (a checkpoint whenever the
    # write-ahead log passes 16 MB) wrote the file's changed tables again after
    # each large insert (a 20-store day's publish: 12.5 s, 9.5 s with one).
    con = duckdb.connect(config=settings.duckdb_resources(working) | {"checkpoint_threshold": "64GB"})
    try:
        con.execute(f"attach {_sql_string(str(working))} as work (read_only)")
        con.execute(f"attach {_sql_string(str(dest))} as pub")
        # The conditions' subqueries name the working copy's relations unqualified.
        con.execute("use work")
        wanted = analyst_tables(con, "work")
        views = analyst_views(con, "work")
        # A view's rows are its tables': there is nothing of its own to replace.
        conditions = {name: c for name, c in conditions.items() if tuple(name.split(".", 1)) not in views}
        if conditions and not _may_update(con, wanted, conditions, by_month):
            # Not a base to update: start from an empty file instead.
            con.execute("detach pub")
            _remove_database(dest)
            con.execute(f"attach {_sql_string(str(dest))} as pub")
            conditions = {}
        schemas = {schema for schema, _ in wanted} | {schema for schema, _ in views}
        for schema in sorted(schemas - set(user_schemas(con, "pub"))):
            con.execute(f'create schema pub."{schema}"')
        # The views first: one may take the name of a table, and a table of a view's.
        for (schema, view) in sorted(analyst_views(con, "pub")):
            con.execute(f'drop view pub."{schema}"."{view}"')
        existing = analyst_tables(con, "pub")
        for (schema, table) in sorted(set(existing) - set(wanted)):
            con.execute(f'drop table pub."{schema}"."{table}"')
        for (schema, table), columns in sorted(wanted.items()):
            name = f'"{schema}"."{table}"'
            condition = conditions.get(f"{schema}.{table}")
            if condition is not None and existing.get((schema, table)) == columns:
                con.execute(f"delete from pub.{name} where {condition}")
                con.execute(f"insert into pub.{name} by name {_new_rows(con, schema, table, condition)}")
            else:
                con.execute(f"create or replace table pub.{name} as select * from work.{name}")
        # Created from the file they are in: their queries name no database.
        con.execute("use pub")
        for (schema, view), query in sorted(views.items()):
            con.execute(f'create view pub."{schema}"."{view}" as {query}')
        con.execute("use work")
        for schema in sorted(set(user_schemas(con, "pub")) - schemas):
            con.execute(f'drop schema pub."{schema}" cascade')
        # Fold the write-ahead log into the file, so the file is the whole database.
        con.execute("checkpoint pub")
        con.execute("detach pub")
        return len(wanted) + len(views)
    finally:
        con.close()


def _new_rows(con: duckdb.DuckDBPyConnection, schema: str, table: str, condition: str) -> str:
    """The query of the working copy's rows of `table` that `condition`
    selects: the rows the last build kept aside when the condition is the
    rows it wrote (WRITTEN_ROWS), else the table's own, fetched by row id."""
    relation = f"{schema}.{table}"
    written = WRITTEN_ROWS.get(relation)
    if written is not None and condition == CHANGED_ROWS.get(relation):
        written_schema, written_table = written.split(".", 1)
        (found,), = con.execute(
            "select count(*) from duckdb_tables() where database_name = 'work' and schema_name = ? "
            "and table_name = ?", [written_schema, written_table]).fetchall()
        if found:
            return f'select * from work."{written_schema}"."{written_table}"'
    return rows_where(f'work."{schema}"."{table}"', condition)


def _may_update(con: duckdb.DuckDBPyConnection, wanted: dict, conditions: Mapping[str, str], by_month: set[str]) -> bool:
    """The published copy in `pub` may be updated in part: it holds the
    analyst schemas only, and every relation named by month has a month column."""
    unknown = set(conditions) - {f"{s}.{t}" for s, t in wanted}
    if unknown:
        raise ValueError(f"months_from names relations the working copy lacks: {', '.join(sorted(unknown))}")
    no_month = [f"{s}.{t}" for (s, t), cols in wanted.items()
                if f"{s}.{t}" in by_month and MONTH_COLUMN not in {c for c, _ in cols}]
    if no_month:
        raise ValueError(f"months_from names relations without a {MONTH_COLUMN} column: {', '.join(no_month)}")
    return set(user_schemas(con, "pub")) <= set(ANALYST_SCHEMAS) and not con.execute(
        "select count(*) from duckdb_tables() where database_name = 'pub' and schema_name = 'main'"
    ).fetchone()[0]


def rows_changed_since_published(working: Path, published: Path) -> dict[str, str]:
    """The rows of the large marts to replace in the published file: those the
    last build wrote, when that build was incremental and the build before it
    is the one published (ops.build names it); else nothing, and publishing
    writes every relation whole."""
    if not published.is_file():
        return {}
    return rows_changed_since(working, published_build(published))


def rows_changed_since(working: Path, held_build: str | None, *, current_build: str | None = None) -> dict[str, str]:
    """The marts' conditions of expectations.suites.CHANGED_ROWS, when a copy
    holding the build `held_build` becomes the working copy's last build by
    replacing the rows they select: that build is incremental (and is
    `current_build`, when given) and the build before it is `held_build`.
    Else nothing: the copy must be updated some other way."""
    from expectations.suites import CHANGED_ROWS

    if held_build is None:
        return {}
    with duckdb.connect(str(working), read_only=True) as con:
        (is_full, last) = con.execute(
            f"select bool_or(is_full_rebuild), any_value(build_id) from {BUILD_WINDOW}").fetchone()
        previous = con.execute(
            f"select build_id from {BUILDS_COMPLETED} order by completed_at desc limit 1 offset 1"
        ).fetchone()
    if is_full is not False or previous is None or previous[0] != held_build:
        return {}
    if current_build is not None and last != current_build:
        return {}
    return {table: condition for table, condition in CHANGED_ROWS.items() if table.startswith("marts.")}


def published_build(published: Path) -> str | None:
    """The build_id of ops.build in a published file; None when it has none."""
    with duckdb.connect(str(published), read_only=True) as con:
        (has_build,) = con.execute(
            "select count(*) from duckdb_tables() where schema_name = 'ops' and table_name = 'build'"
        ).fetchone()
        row = con.execute("select build_id from ops.build").fetchone() if has_build else None
    return row[0] if row else None


def record_build(working: Path) -> None:
    """ops.build: the dbt build the working copy holds, published with it."""
    with duckdb.connect(str(working)) as con:
        con.execute("create schema if not exists ops")
        con.execute(
            f"""create or replace table ops.build as
               select build_id, data_as_of_date, is_full_rebuild, loaded_through
               from {BUILD_WINDOW}"""
        )


def _remove_database(path: Path) -> None:
    """A DuckDB file and its write-ahead log."""
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
