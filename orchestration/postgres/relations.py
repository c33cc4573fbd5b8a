"""The published relations as the server holds them: names, columns and the
access rules they are created with."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
from psycopg import sql

from orchestration.postgres.access import relation_access
from orchestration.postgres.types import postgres_type
from orchestration.analyst_relations import analyst_tables, analyst_views
from orchestration.publish import MONTH_COLUMN


@dataclass(frozen=True)
class Relation:
    schema: str
    table: str
    columns: list[tuple[str, str]]  # (name, DuckDB type)
    database: str = "pub"  # the DuckDB database holding it: the published file, attached as `pub`
    # A view: its query as DuckDB holds it. The views the published file holds
    # (the customer-month marts) name their tables by schema and table, in SQL
    # PostgreSQL reads as it is.
    view_query: str | None = None

    @property
    def name(self) -> str:
        return f"{self.schema}.{self.table}"

    @property
    def column_names(self) -> list[str]:
        return [c for c, _ in self.columns]

    @property
    def signature(self) -> str:
        """Its columns and access rules: a relation whose signature is unchanged
        may be updated in place (its table, grants and policies stay right)."""
        access = relation_access(self.schema, self.table, self.column_names)
        view = f"|view {self.view_query}" if self.view_query is not None else ""
        return ",".join(f"{c} {t}" for c, t in self.columns) + f"|{access.readers}|{access.policy}{view}"

    @property
    def by_month(self) -> bool:
        return self.view_query is None and any(c == MONTH_COLUMN and t == "DATE" for c, t in self.columns)

    def duckdb_source(self) -> str:
        """The relation in DuckDB (in the published file, unless `database` says otherwise)."""
        return f"{quote(self.database)}.{quote(self.schema)}.{quote(self.table)}"


def published_relations(duck: duckdb.DuckDBPyConnection) -> list[Relation]:
    """The analyst relations of the published file attached as `pub`: its
    tables, then its views (which read the tables)."""
    tables = [Relation(s, t, cols) for (s, t), cols in sorted(analyst_tables(duck, "pub").items())]
    views = []
    for (schema, view), query in sorted(analyst_views(duck, "pub").items()):
        columns = duck.execute(
            "select column_name, data_type from duckdb_columns() where database_name = 'pub' "
            "and schema_name = ? and table_name = ? order by column_index", [schema, view]).fetchall()
        views.append(Relation(schema, view, columns, view_query=query))
    return tables + views


def create_table(conn, relation: Relation, schema: str) -> None:
    """An empty table for `relation` in `schema`, with the PostgreSQL types of its DuckDB columns."""
    columns = sql.SQL(", ").join(
        sql.SQL("{} " + postgres_type(t, column=f"{relation.name}.{c}")).format(sql.Identifier(c))
        for c, t in relation.columns
    )
    conn.execute(sql.SQL("create table {} ({})").format(sql.Identifier(schema, relation.table), columns))


def create_view(conn, relation: Relation) -> None:
    """The view `relation`, in its schema. Its query names the tables it reads
    by schema and table, so it is created once they are live (publish.py's
    swap). It reads them as the querying user (security_invoker), so their
    row-level security applies to it."""
    conn.execute(sql.SQL("create view {} with (security_invoker = true) as ").format(
        sql.Identifier(relation.schema, relation.table)) + sql.SQL(relation.view_query))


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
