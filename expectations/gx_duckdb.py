"""Great Expectations on DuckDB through SQLAlchemy (duckdb-engine): the glue
GX 1.x does not have for DuckDB.

- :func:`register_persisted_connection`: GX keeps one connection open for the
  dialects named in the private tuple
  ``great_expectations.execution_engine.sqlalchemy_execution_engine._PERSISTED_CONNECTION_DIALECTS``
  (sqlite, mssql, ...). With a plain ``duckdb:///`` data source every
  expectation fails with ``IndexError`` (GX reads rows after handing the pooled
  connection back); with ``duckdb`` added there, every metric runs as SQL
  inside DuckDB over one read-only connection, so a 5M-row table is never
  pulled into Python. It fails loudly if a GX upgrade renames the tuple
  (tests/test_expectations.py guards it too).
- :func:`read_catalog_per_schema`: GX reflects each table's columns and
  primary key through SQLAlchemy, which duckdb-engine answers with
  PostgreSQL's catalog queries over DuckDB's emulation of ``pg_catalog``:
  about 0.1 s a table, and the primary-key query fails on DuckDB every time.
  Reading each schema's columns once serves every table of it.
- :func:`close`: every DuckDB connection GX opened closed, so the file is free
  for the next writer.
"""

from __future__ import annotations

from typing import Any


def register_persisted_connection() -> None:
    """Make GX keep one persistent connection for duckdb, once per process."""
    import great_expectations.execution_engine.sqlalchemy_execution_engine as see

    current = getattr(see, "_PERSISTED_CONNECTION_DIALECTS", None)
    if current is None or not hasattr(see, "_dialect_requires_persisted_connection"):
        raise RuntimeError(
            "great_expectations.execution_engine.sqlalchemy_execution_engine no longer has "
            "_PERSISTED_CONNECTION_DIALECTS; the DuckDB SQL route of expectations.runner needs updating "
            "for this GX version"
        )
    if any(getattr(d, "value", d) == "duckdb" for d in current):
        return

    class _DuckDBDialectName(str):
        # GX compares members with == (against the engine's dialect name) and reads .value
        # (as a connection-string prefix), like its GXSqlDialect enum members.
        @property
        def value(self) -> str:
            return str(self)

    see._PERSISTED_CONNECTION_DIALECTS = (*current, _DuckDBDialectName("duckdb"))


class _CatalogPerSchema:
    """A SQLAlchemy inspector that answers a table's columns from one read of
    its schema's columns (the rows `get_columns` would return, keyed by
    schema and table; kept in `columns`, which outlives the inspector), and a
    table's primary key as none: the warehouse's tables have none, and DuckDB
    cannot run the query that would say so. Every other question goes to the
    inspector it wraps."""

    def __init__(self, inspector: Any, columns: dict) -> None:
        self._inspector = inspector
        self._columns = columns

    def get_columns(self, table_name: str, schema: str | None = None, **kw: Any) -> list:
        if schema not in self._columns:
            from sqlalchemy.engine.reflection import ObjectKind

            # Views too: the customer-month marts are views.
            self._columns[schema] = self._inspector.get_multi_columns(schema=schema, kind=ObjectKind.ANY)
        columns = self._columns[schema].get((schema, str(table_name)))
        return columns if columns is not None else self._inspector.get_columns(table_name, schema=schema, **kw)

    def get_pk_constraint(self, table_name: str, schema: str | None = None, **kw: Any) -> dict:
        return {"constrained_columns": [], "name": None}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inspector, name)


def read_catalog_per_schema(execution_engine: Any) -> None:
    """Make GX's execution engine hand out inspectors of :class:`_CatalogPerSchema`
    that share one read of each schema. GX makes a new inspector for every
    batch (so that a table changed between two batches is reflected again);
    the warehouse does not change while it is validated."""
    columns: dict = {}
    inspector_of_the_batch = execution_engine.get_inspector
    execution_engine.get_inspector = lambda: _CatalogPerSchema(inspector_of_the_batch(), columns)


def close(datasource: Any) -> None:
    """Close every DuckDB connection GX opened, so the file is free for the next writer."""
    execution_engine = getattr(datasource, "_execution_engine", None)
    if execution_engine is not None:
        connection = getattr(execution_engine, "_connection", None)
        if connection is not None:
            try:
                connection.close()
            finally:
                execution_engine._connection = None
        execution_engine.engine.dispose()
    engine = getattr(datasource, "_engine", None)
    if engine is not None:
        engine.dispose()
