"""DuckDB column types as PostgreSQL column types: the server's relations keep
the published columns' names and types (a DECIMAL keeps its scale, a DATE
stays a date), so a BI tool sees the same table on either."""

from __future__ import annotations

import re

# DuckDB type name -> PostgreSQL type. Unsigned integers take the next wider
# signed type (PostgreSQL has none); HUGEINT needs numeric.
_SIMPLE = {
    "VARCHAR": "text",
    "BOOLEAN": "boolean",
    "TINYINT": "smallint",
    "SMALLINT": "smallint",
    "INTEGER": "integer",
    "BIGINT": "bigint",
    "HUGEINT": "numeric(39,0)",
    "UTINYINT": "smallint",
    "USMALLINT": "integer",
    "UINTEGER": "bigint",
    "UBIGINT": "numeric(20,0)",
    "FLOAT": "real",
    "DOUBLE": "double precision",
    "DATE": "date",
    "TIME": "time",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "INTERVAL": "interval",
    "UUID": "uuid",
}
_DECIMAL = re.compile(r"DECIMAL\((\d+),(\d+)\)")


class UnsupportedType(ValueError):
    """A published column whose type has no faithful PostgreSQL column."""


def postgres_type(duckdb_type: str, *, column: str) -> str:
    """The PostgreSQL type of a DuckDB column type; `column` (schema.table.column)
    names it in the error when there is none (lists, structs, maps)."""
    decimal = _DECIMAL.fullmatch(duckdb_type.replace(" ", ""))
    if decimal:
        return f"numeric({decimal.group(1)},{decimal.group(2)})"
    try:
        return _SIMPLE[duckdb_type]
    except KeyError:
        raise UnsupportedType(
            f"{column} has DuckDB type {duckdb_type}, which has no PostgreSQL column type here: "
            "publish it as a scalar type (cast it in its model)"
        ) from None
