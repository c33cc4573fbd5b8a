"""The analyst relations of a DuckDB database, read from its catalog: what
publishing writes into the published file (orchestration/publish.py) and
what the PostgreSQL publish sends from it (orchestration/postgres)."""

from __future__ import annotations

import duckdb

from expectations.view_queries import view_query

# What analysts may read (SPEC section 9): the marts (with the data-quality
# relations marts.data_quality_* and marts.source_freshness), the validation
# results that let the build through, and the dbt seeds (brand thresholds and
# the industry line: the rules behind the figures, no personal data).
ANALYST_SCHEMAS = ("marts", "ops", "seeds")
_IN_ANALYST_SCHEMAS = "(" + ", ".join(f"'{schema}'" for schema in ANALYST_SCHEMAS) + ")"


def analyst_tables(con: duckdb.DuckDBPyConnection, database: str) -> dict[tuple[str, str], list[tuple[str, str]]]:
    """(schema, table) -> [(column, type)] of the analyst schemas' tables in `database`."""
    relations: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, column, data_type in con.execute(
        f"""select c.schema_name, c.table_name, c.column_name, c.data_type
            from duckdb_columns() c join duckdb_tables() t
              on t.database_name = c.database_name and t.schema_name = c.schema_name and t.table_name = c.table_name
            where c.database_name = ? and c.schema_name in {_IN_ANALYST_SCHEMAS}
            order by c.schema_name, c.table_name, c.column_index""",
        [database],
    ).fetchall():
        relations.setdefault((schema, table), []).append((column, data_type))
    return relations


def analyst_views(con: duckdb.DuckDBPyConnection, database: str) -> dict[tuple[str, str], str]:
    """(schema, view) -> the query of each view of the analyst schemas in
    `database` (the customer-month marts), as DuckDB holds it."""
    views = {}
    for schema, view, statement in con.execute(
        f"select schema_name, view_name, sql from duckdb_views() "
        f"where database_name = ? and not internal and schema_name in {_IN_ANALYST_SCHEMAS} order by 1, 2",
        [database],
    ).fetchall():
        query = view_query(statement)
        if query is None:
            raise ValueError(f"cannot read the query of the view {schema}.{view}: {statement}")
        views[(schema, view)] = query
    return views


def user_schemas(con: duckdb.DuckDBPyConnection, database: str) -> list[str]:
    """The user schemas of `database` (main is DuckDB's own default)."""
    return [s for (s,) in con.execute(
        "select schema_name from duckdb_schemas() where database_name = ? and not internal "
        "and schema_name <> 'main'", [database]).fetchall()]
