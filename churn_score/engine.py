"""The churn score's dbt Python models on either engine.

On DuckDB a model's refs are DuckDB relations of the build's own session and
its result goes back as one. On Spark (docs/spark.md) the refs are Spark
DataFrames: they are moved through Arrow into an in-memory DuckDB on the
driver, so the fitting and scoring code -- and the hashes its fingerprints
and training samples are made of -- is the same on both engines, and the
result goes back to Spark through Arrow. The driver then holds the featured
customer-months: the first Spark version; docs/spark.md says what a
cluster-sized one changes.
"""

from __future__ import annotations

from typing import Any

import duckdb
import pandas as pd


def is_spark(session: Any) -> bool:
    return type(session).__module__.startswith("pyspark")


class LocalRelations:
    """DuckDB relations for a model's refs, in the build's DuckDB session or
    in an in-memory one on the Spark driver."""

    def __init__(self, session: Any):
        self.session = session
        self.spark = is_spark(session)
        self.con: duckdb.DuckDBPyConnection = duckdb.connect() if self.spark else session
        self._held: list = []  # Arrow tables the in-memory relations read

    def relation(self, ref: Any) -> duckdb.DuckDBPyRelation:
        if not self.spark:
            return ref
        table = _naive_timestamps(ref.toArrow())
        self._held.append(table)
        return self.con.from_arrow(table)

    def stored(self, this: Any) -> pd.DataFrame | None:
        """The rows of the model's own table from the previous build, or None."""
        if self.spark:
            if not self.session.catalog.tableExists(str(this)):
                return None
            return self.session.table(str(this)).toArrow().to_pandas()
        try:
            return self.session.sql(f"select * from {this}").df()
        except duckdb.CatalogException:
            return None

    def result(self, rows: duckdb.DuckDBPyRelation | pd.DataFrame) -> Any:
        """The model's rows in the engine's own form."""
        if not self.spark:
            return rows
        table = rows.to_arrow_table() if isinstance(rows, duckdb.DuckDBPyRelation) else pa_table(rows)
        return self.session.createDataFrame(table)


def pa_table(frame: pd.DataFrame):
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False)


def _naive_timestamps(table):
    """Spark's timestamps come with the session's time zone (UTC); DuckDB's
    builds know them without one, as the code expects."""
    import pyarrow as pa

    fields = [
        pa.field(f.name, pa.timestamp(f.type.unit)) if pa.types.is_timestamp(f.type) and f.type.tz else f
        for f in table.schema
    ]
    return table.cast(pa.schema(fields))
