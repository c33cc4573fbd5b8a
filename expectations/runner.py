"""Run the expectation suites of :mod:`expectations.suites` against the DuckDB warehouse.

Approach: set-based SQL. Every metric runs as SQL inside DuckDB over one
read-only connection (GX's DuckDB glue: :mod:`expectations.gx_duckdb`), so a
5M-row table is never pulled into Python.

DuckDB is opened READ-ONLY (``connect_args={"read_only": True}``) and every connection
is closed before the functions return. A process that holds the file open for writing
makes the open fail (``Conflicting lock``); validate after the writer has closed it.

``great_expectations`` is imported lazily, inside the functions: importing this module
is cheap, the ~6 s GX import is paid on the first validation of a process.
"""

from __future__ import annotations

import datetime as _dt
import decimal
import logging
import os
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from expectations import gx_duckdb
from expectations.offline_docs import make_offline
from expectations.changed_rows import qualified, rows_last_written
from expectations.suites import UNEXPECTED_ROWS, Check, checks_for

logger = logging.getLogger(__name__)

DOCS_SITE_NAME = "aftersales_local_site"
DATASOURCE_NAME = "warehouse"
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class FailedExpectation:
    """One failed check.

    name: the check's stable name (``unique:store_code+month_end``, ``in_set:payer``...).
    expectation: the GX expectation type (``expect_compound_columns_to_be_unique``...).
    column: the column(s) the check is about, comma-joined; None for table-level checks.
    critical: the check blocks publishing.
    unexpected_count: rows that broke it (None when not row-based or when it raised).
    observed: GX's observed value, when it reports one (e.g. the missing columns).
    examples: up to five offending values / rows, JSON-friendly.
    exception: the error message when GX could not evaluate the check
        (missing column, SQL error); such a check counts as failed.
    """

    name: str
    expectation: str
    column: str | None
    critical: bool
    unexpected_count: int | None = None
    observed: Any = None
    examples: list = field(default_factory=list)
    exception: str | None = None

    def describe(self) -> str:
        what = f"{self.name} ({self.expectation}"
        what += f" on {self.column})" if self.column else ")"
        if self.exception:
            return f"{what}: could not evaluate: {self.exception}"
        parts = []
        if self.unexpected_count is not None:
            parts.append(f"{self.unexpected_count} unexpected")
        if self.observed is not None and self.unexpected_count is None:
            parts.append(f"observed {self.observed!r}")
        if self.examples:
            parts.append(f"e.g. {self.examples[:3]!r}")
        return f"{what}: " + ", ".join(parts) if parts else what


@dataclass(frozen=True)
class ValidationOutcome:
    """The result of validating one table.

    success: every check passed.
    evaluated: how many checks ran.
    failed: the failed checks, critical ones first.
    critical_failed: at least one critical check failed (block publishing).
    row_count: rows in the table (None when the table is missing).
    duration_s: wall time of this table's validation (GX context set-up excluded).
    docs_index: the Data Docs site's index.html, when docs were written.
    """

    success: bool
    table: str
    evaluated: int
    failed: list[FailedExpectation]
    critical_failed: bool
    row_count: int | None = None
    duration_s: float = 0.0
    docs_index: Path | None = None

    @property
    def failed_names(self) -> list[str]:
        return [f.name for f in self.failed]

    def failure(self, name: str) -> FailedExpectation | None:
        return next((f for f in self.failed if f.name == name), None)

    def summary(self) -> str:
        if self.success:
            return f"{self.table}: {self.evaluated} checks passed"
        crit = sum(f.critical for f in self.failed)
        lines = [f"{self.table}: {len(self.failed)} of {self.evaluated} checks failed ({crit} critical)"]
        lines += [("  CRITICAL " if f.critical else "  warning  ") + f.describe() for f in self.failed]
        return "\n".join(lines)

    def to_dict(self) -> dict:
        """JSON-friendly form (for Dagster metadata, logs)."""
        d = asdict(self)
        d["docs_index"] = str(self.docs_index) if self.docs_index else None
        return _jsonable(d)


def validate_table(warehouse: Path | str, table: str, *, docs_dir: Path | str | None = None) -> ValidationOutcome:
    """Validate one table ('raw.dms_repair_orders', 'marts.kpi_store_month', ...)."""
    return validate_all(warehouse, [table], docs_dir)[0]


def validate_all(
    warehouse: Path | str,
    tables: Iterable[str] | None = None,
    docs_dir: Path | str | None = None,
    *,
    changed_only: bool = False,
) -> list[ValidationOutcome]:
    """Validate several tables with one GX context and one read-only DuckDB connection (GX's).

    tables: names from :data:`expectations.suites.SUITES`; None means every table that has
    a suite. A table missing from the warehouse gives a failed outcome (critical check
    ``table_exists``), not an exception; so does a table GX cannot validate at all
    (``validation_error``, with the message). Unknown table names raise KeyError before any work.
    changed_only: validate, of the tables in :data:`expectations.suites.CHANGED_ROWS`, only
    the rows the last incremental build wrote (the whole tables after a full rebuild).
    docs_dir: when given, a Data Docs site (static HTML) is (re)built there; its index.html
    lists this call's validations. Raises FileNotFoundError when the warehouse file is missing,
    and duckdb.IOException when another process holds it open for writing.
    """
    from expectations.suites import SUITES

    warehouse = Path(warehouse).resolve()
    table_list = list(SUITES) if tables is None else list(dict.fromkeys(tables))
    suites = {t: checks_for(t) for t in table_list}  # KeyError on unknown names, before any work
    if not warehouse.is_file():
        raise FileNotFoundError(f"warehouse file not found: {warehouse}")
    docs_path = Path(docs_dir).resolve() if docs_dir is not None else None

    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        kinds = {
            f"{s}.{n}": kind
            for s, n, kind in con.execute(
                "SELECT table_schema, table_name, table_type FROM information_schema.tables "
                "WHERE table_catalog = current_database()"
            ).fetchall()
        }
        present = set(kinds)
        changed_rows = rows_last_written(con, kinds) if changed_only else {}
    finally:
        # Closed before GX connects: duckdb-engine opens the file with another config
        # (custom_user_agent), and DuckDB refuses two configs for one file in one process.
        con.close()
    outcomes: dict[str, ValidationOutcome] = {}
    to_run = []
    for table in table_list:
        if table in present:
            to_run.append(table)
        else:
            outcomes[table] = _missing_table_outcome(table)
    if to_run or docs_path is not None:
        outcomes.update(_run_gx(warehouse, to_run, suites, docs_path, changed_rows))
    if docs_path is not None:
        index = docs_path / "index.html"
        for t, o in outcomes.items():
            outcomes[t] = _replace(o, docs_index=index if index.is_file() else None)
    return [outcomes[t] for t in table_list]


# --------------------------------------------------------------------------- internals


def _new_context(docs_path: Path | None):
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    if docs_path is not None:
        docs_path.mkdir(parents=True, exist_ok=True)
        context.add_data_docs_site(
            site_name=DOCS_SITE_NAME,
            site_config={
                "class_name": "SiteBuilder",
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_path)},
            },
        )
    return context


def _to_gx(check: Check):
    import great_expectations.expectations as gxe

    cls = getattr(gxe, check.expectation)
    extra: dict[str, Any] = {
        "meta": {"check": check.name, "column": check.column, "critical": check.critical},
        "severity": check.severity,
    }
    if check.description and check.expectation == UNEXPECTED_ROWS:
        extra["description"] = check.description
    elif check.description:
        extra["notes"] = check.description
    return cls(**dict(check.kwargs), **extra)


def _run_gx(
    warehouse: Path,
    tables: Sequence[str],
    suites: dict[str, tuple[Check, ...]],
    docs_path: Path | None,
    changed_rows: dict[str, str],
) -> dict[str, ValidationOutcome]:
    t0 = time.perf_counter()
    gx_duckdb.register_persisted_connection()
    import great_expectations as gx

    context = _new_context(docs_path)
    datasource = context.data_sources.add_sql(
        name=DATASOURCE_NAME,
        connection_string=f"duckdb:///{warehouse}",
        kwargs={"connect_args": {"read_only": True}},
    )
    logger.debug("GX context ready in %.1fs", time.perf_counter() - t0)
    outcomes: dict[str, ValidationOutcome] = {}
    try:
        execution_engine = datasource.get_execution_engine()
        gx_duckdb.read_catalog_per_schema(execution_engine)

        def query(sql: str):
            import sqlalchemy as sa

            return execution_engine.execute_query(sa.text(sql))

        def committed(sql: str) -> None:
            # GX rolls its connection back after some metrics: a statement whose
            # effect must last (a temporary table) is committed.
            import sqlalchemy as sa

            execution_engine.execute_query_in_transaction(sa.text(sql))

        for table in tables:
            started = time.perf_counter()
            schema, name = table.split(".", 1)
            checks = suites[table]
            try:
                with warnings.catch_warnings():
                    # schema_name is deprecated in favour of a schema on the data source's
                    # connection, which the generic SQL data source cannot express for DuckDB;
                    # it still works in GX 1.24.
                    warnings.simplefilter("ignore", DeprecationWarning)
                    if table in changed_rows:  # only the rows the last build wrote
                        batch = _changed_rows_copy(committed, table, changed_rows[table])
                        asset = datasource.add_query_asset(name=table, query=f"SELECT * FROM {batch}")
                    else:
                        batch = qualified(table)
                        asset = datasource.add_table_asset(name=table, table_name=name, schema_name=schema)
                batch_definition = asset.add_batch_definition_whole_table(name="whole_table")
                suite = context.suites.add(
                    gx.ExpectationSuite(name=table, expectations=[_to_gx(c) for c in checks])
                )
                definition = context.validation_definitions.add(
                    gx.ValidationDefinition(name=table, data=batch_definition, suite=suite)
                )
                result = _run_definition(definition)
                row_count = query(f"SELECT count(*) FROM {batch}").scalar()
                outcomes[table] = _outcome(table, checks, result, query, batch, row_count,
                                           time.perf_counter() - started)
                if table in changed_rows:
                    committed(f"DROP TABLE {batch}")
            except Exception as exc:  # one table's breakage must not hide the others' results
                logger.exception("validating %s failed", table)
                outcomes[table] = _error_outcome(table, f"{type(exc).__name__}: {exc}")
                continue
            logger.info("validated %s in %.1fs: %s", table, outcomes[table].duration_s,
                        "ok" if outcomes[table].success else f"{len(outcomes[table].failed)} failed")
        if docs_path is not None:
            # Pages written from now on are this run's (with a second of slack for coarse clocks).
            docs_started_ns = time.time_ns() - 1_000_000_000
            context.build_data_docs(site_names=[DOCS_SITE_NAME])
            make_offline(docs_path, written_since_ns=docs_started_ns)
    finally:
        gx_duckdb.close(datasource)
    return outcomes


def _run_definition(definition):
    """Validate once with pass or fail only, and again with the failures'
    counts and examples only when something failed. Most of a validation's
    time is Great Expectations' own Python per metric, not DuckDB, and the
    summary's metrics (unexpected counts, lists of examples) doubled the
    metrics of every passing expectation (a small warehouse's 355
    expectations: 14.6 s against 11.4 s). The second run reuses the first's
    run id, so its result replaces the first in the Data Docs."""
    from great_expectations.core.run_identifier import RunIdentifier

    run_id = RunIdentifier(run_time=_dt.datetime.now(_dt.timezone.utc))
    result = definition.run(result_format={"result_format": "BOOLEAN_ONLY"}, run_id=run_id)
    if result.success:
        return result
    return definition.run(result_format={"result_format": "SUMMARY", "partial_unexpected_count": MAX_EXAMPLES},
                          run_id=run_id)


def _changed_rows_copy(committed, table: str, rows: str) -> str:
    """Copy the rows the last build wrote into a temporary table of GX's
    connection (the warehouse stays read-only) and name it. Every
    expectation then reads the copy: as a query asset over the table itself,
    each one re-evaluated the condition, a semi-join of the 20M-row
    customer-month views against the changed keys (100 stores: 8.0 s of a
    day's checks for marts.fct_customer_month). rows: their query."""
    copy = 'temp.main."' + ("changed_rows__" + table.replace(".", "__")).replace('"', '""') + '"'
    committed(f"CREATE OR REPLACE TEMP TABLE {copy} AS {rows}")
    return copy


def _outcome(table, checks, result, query, batch, row_count, duration) -> ValidationOutcome:
    by_name = {c.name: c for c in checks}
    failed: list[FailedExpectation] = []
    for r in result.results:
        if r.success:
            continue
        cfg = r.expectation_config
        meta = cfg.meta or {}
        check = by_name.get(meta.get("check"))
        res = r.result or {}
        exception = _exception_message(r.exception_info)
        unexpected = res.get("unexpected_count")
        examples = _distinct(res.get("partial_unexpected_list") or [])[:MAX_EXAMPLES]
        observed = res.get("observed_value")
        mismatched = (res.get("details") or {}).get("mismatched")
        if mismatched:  # ExpectTableColumnsToMatchSet: report what is missing / extra
            observed = mismatched
        if check is not None and check.expectation == UNEXPECTED_ROWS and exception is None:
            unexpected = observed
            observed = None
            examples = _example_rows(query, table, batch, check)
        failed.append(
            FailedExpectation(
                name=check.name if check else cfg.type,
                expectation=cfg.type,
                column=check.column if check else cfg.kwargs.get("column"),
                critical=check.critical if check else True,
                unexpected_count=unexpected,
                observed=_jsonable(_trim(observed)),
                examples=_jsonable(examples),
                exception=exception,
            )
        )
    failed.sort(key=lambda f: not f.critical)
    return ValidationOutcome(
        success=not failed,
        table=table,
        evaluated=len(result.results),
        failed=failed,
        critical_failed=any(f.critical for f in failed),
        row_count=row_count,
        duration_s=round(duration, 3),
    )


def _example_rows(query, table: str, batch: str, check: Check) -> list[dict]:
    """A few offending rows of an UnexpectedRowsExpectation check, queried
    directly from what was validated (`batch`: the table, or its changed rows)."""
    sql = check.kwargs["unexpected_rows_query"].format(batch=batch)
    try:
        rows = query(f"SELECT * FROM ({sql}) AS unexpected LIMIT {MAX_EXAMPLES}").mappings().all()
        return [dict(r) for r in rows]
    except Exception as exc:  # examples are a courtesy; never fail the validation on them
        logger.warning("could not fetch examples for %s %s: %s", table, check.name, exc)
        return []


def _exception_message(info) -> str | None:
    if not info:
        return None
    if isinstance(info, dict) and "raised_exception" in info:
        return info.get("exception_message") if info.get("raised_exception") else None
    if isinstance(info, dict):  # {metric id: {...}} when a metric failed to resolve
        messages = [
            v.get("exception_message") for v in info.values() if isinstance(v, dict) and v.get("raised_exception")
        ]
        return "; ".join(m for m in messages if m) or None
    return str(info)


def _missing_table_outcome(table: str) -> ValidationOutcome:
    return _error_outcome(table, f"table {table} does not exist in the warehouse", name="table_exists")


def _error_outcome(table: str, message: str, name: str = "validation_error") -> ValidationOutcome:
    failure = FailedExpectation(name=name, expectation=name, column=None, critical=True, exception=message)
    return ValidationOutcome(success=False, table=table, evaluated=0, failed=[failure], critical_failed=True)


def _replace(outcome: ValidationOutcome, **changes) -> ValidationOutcome:
    from dataclasses import replace

    return replace(outcome, **changes)


def _distinct(values) -> list:
    seen, out = set(), []
    for v in values:
        key = repr(v)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def _trim(value):
    if isinstance(value, (list, tuple)) and len(value) > 20:
        return list(value[:20]) + ["..."]
    return value


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [_jsonable(v) for v in value]
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (_dt.date, _dt.datetime, _dt.time)):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


# --------------------------------------------------------------------------- results table

RESULTS_SCHEMA = "ops"
RESULTS_TABLE = f"{RESULTS_SCHEMA}.validation_results"
RESULTS_DDL = f"""
create or replace table {RESULTS_TABLE} (
    validated_at timestamp not null,      -- when this validation ran (UTC)
    table_name varchar not null,          -- the validated table, schema.name
    expectations_evaluated integer not null,
    expectations_failed integer not null,
    success boolean not null,             -- every expectation of the suite passed
    critical_failed boolean not null,     -- a critical expectation failed: the build is not published
    failed_expectations varchar           -- names of the failed expectations, comma separated; NULL if none
)"""


def record_results(warehouse: Path | str, outcomes: Sequence[ValidationOutcome], validated_at: _dt.datetime) -> None:
    """Replace ops.validation_results in the warehouse with these outcomes, so the
    build carries the results of the validation that let it be published.

    Only counts and expectation names are written: never the failing values or
    example rows, which may be private data of the raw tables (SPEC section 9)."""
    import duckdb

    con = duckdb.connect(str(warehouse))
    try:
        con.execute("begin transaction")
        con.execute(f"create schema if not exists {RESULTS_SCHEMA}")
        con.execute(RESULTS_DDL)
        con.executemany(
            f"insert into {RESULTS_TABLE} values (?, ?, ?, ?, ?, ?, ?)",
            [
                (validated_at, o.table, o.evaluated, len(o.failed), o.success, o.critical_failed,
                 ", ".join(o.failed_names) or None)
                for o in outcomes
            ],
        )
        con.execute("commit")
    finally:
        con.close()
