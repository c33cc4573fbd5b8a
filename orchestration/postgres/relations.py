"""The published relations as the server holds them: names, columns and the
access rules they are created with."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
from psycopg import sql

from orchestration.postgres.access import relation_access
from orchestration.postgres.types import postgres_type
from orchestration.publish import MONTH_COLUMN, _relations


@dataclass(frozen=True)
class Relation:
    schema: str
    table: str
    columns: list[tuple[str, str]]  # (name, DuckDB type)
    database: str = "pub"  # the DuckDB database holding it: the published file, attached as `pub`

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
        return ",".join(f"{c} {t}" for c, t in self.columns) + f"|{access.readers}|{access.policy}"

    @property
    def by_month(self) -> bool:
        return any(c == MONTH_COLUMN and t == "DATE" for c, t in self.columns)

    def duckdb_source(self) -> str:
        """The relation in DuckDB (in the published file, unless `database` says otherwise)."""
        return f"{quote(self.database)}.{quote(self.schema)}.{quote(self.table)}"


def published_relations(duck: duckdb.DuckDBPyConnection) -> list[Relation]:
    """The analyst relations of the published file attached as `pub`."""
    return [Relation(s, t, cols) for (s, t), cols in sorted(_relations(duck, "pub").items())]


def create_table(conn, relation: Relation, schema: str) -> None:
    """An empty table for `relation` in `schema`, with the PostgreSQL types of its DuckDB columns."""
    columns = sql.SQL(", ").join(
        sql.SQL("{} " + postgres_type(t, column=f"{relation.name}.{c}")).format(sql.Identifier(c))
        for c, t in relation.columns
    )
    conn.execute(sql.SQL("create table {} ({})").format(sql.Identifier(schema, relation.table), columns))


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'
