"""The raw layer as Parquet files, which DuckDB and Spark both read.

The loader keeps its raw tables in DuckDB (where quarantine, re-delivery and
the load log are worked out in one transaction per batch); this module mirrors
them to a Parquet folder for an engine that cannot read a DuckDB file, such as
Spark (docs/decisions.md, "Spark"). Layout, partitioned by source table,
store and drop date, one file per landing file:

    <root>/<table>/store=<store code>/drop_date=<drop date>/data_0.parquet
    <root>/load_log/data_0.parquet        (and quarantine, replaced_rows)

The partition folders add the columns `store` and `drop_date` when a reader
discovers them (the folder's store and drop date, as text; `reference` for a
file without a drop date). Every column of the raw table is in the file, load
metadata included, with the raw table's types.

Mirroring follows the load log: a landing file whose loaded version (its
load time) differs from the one last mirrored is written again (a
re-delivered file replaces its partition); the bookkeeping tables, which are
small, are written whole. `<root>/_mirrored/data_0.parquet` records what was
mirrored, so a day writes only its own drops.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from sources.contract import LANDING_TABLES
from sources.loader import RAW_SCHEMA
from sources.parsing import quote_literal

# The loader's bookkeeping tables, mirrored whole on every run.
BOOKKEEPING_TABLES = ("load_log", "quarantine", "replaced_rows")
MIRRORED = "_mirrored"
# A landing file without a drop date (reference/stores.csv) goes here.
NO_DROP_DATE = "reference"
NO_STORE = "group"
# The partition of the empty file that gives a table without data its columns.
NONE = "none"


@dataclass
class MirrorResult:
    files_written: int
    rows_written: int
    seconds: float

    def describe(self) -> str:
        rate = self.rows_written / self.seconds if self.seconds else 0
        return (
            f"raw Parquet: {self.files_written:,} landing files ({self.rows_written:,} rows) "
            f"written in {self.seconds:.1f} s ({rate:,.0f} rows/s)"
        )


def table_folder(root: Path, table_name: str) -> Path:
    return root / table_name


def _write_whole(con: duckdb.DuckDBPyConnection, query: str, folder: Path) -> None:
    """Replace `folder` with one Parquet file holding the query's rows."""
    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    con.execute(f"copy ({query}) to {quote_literal(str(tmp / 'data_0.parquet'))} (format parquet)")
    shutil.rmtree(folder, ignore_errors=True)
    tmp.rename(folder)


def mirror_raw_to_parquet(con: duckdb.DuckDBPyConnection, root: Path) -> MirrorResult:
    """Write the landing files loaded since the last mirror, and the
    bookkeeping tables, to `root` (see the module's docstring)."""
    started = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    mirrored = root / MIRRORED / "data_0.parquet"
    con.execute(
        f"""create or replace temp table _loaded_files as
            select source_file, table_name, max(loaded_at) as loaded_at,
                   coalesce(any_value(store_code), '{NO_STORE}') as store,
                   coalesce(cast(any_value(drop_date) as varchar), '{NO_DROP_DATE}') as drop_date
            from {RAW_SCHEMA}.load_log where status = 'loaded'
            group by source_file, table_name"""
    )
    if mirrored.exists():
        con.execute(
            f"""create or replace temp table _to_write as
                select * from _loaded_files
                anti join read_parquet({quote_literal(str(mirrored))}) m using (source_file, loaded_at)"""
        )
    else:
        con.execute("create or replace temp table _to_write as select * from _loaded_files")
    files_written = rows_written = 0
    for table in LANDING_TABLES:
        (n_files,) = con.execute(
            "select count(*) from _to_write where table_name = ?", [table.name]
        ).fetchone()
        if not n_files:
            continue
        folder = table_folder(root, table.name)
        # A re-delivered file's partition is rewritten: clear it first, so a
        # partition never holds two versions of one landing file.
        for store, drop in con.execute(
            "select store, drop_date from _to_write where table_name = ?", [table.name]
        ).fetchall():
            shutil.rmtree(folder / f"store={store}" / f"drop_date={drop}", ignore_errors=True)
        query = f"""
            select t.*, w.store, w.drop_date
            from {RAW_SCHEMA}.{table.name} t
            join _to_write w on w.source_file = t._source_file and w.table_name = '{table.name}'"""
        (rows,) = con.execute(
            f"""copy ({query}) to {quote_literal(str(folder))}
                (format parquet, partition_by (store, drop_date), overwrite_or_ignore true,
                 filename_pattern 'data_{{i}}')"""
        ).fetchone()
        files_written += n_files
        rows_written += rows
    for table in LANDING_TABLES:
        # A table no file has delivered yet still has its columns: a reader
        # finds them in an empty file of partition store=none/drop_date=none.
        folder = table_folder(root, table.name)
        if not any(folder.rglob("*.parquet")):
            empty = folder / f"store={NONE}" / f"drop_date={NONE}"
            empty.mkdir(parents=True, exist_ok=True)
            con.execute(
                f"""copy (select * from {RAW_SCHEMA}.{table.name} limit 0)
                    to {quote_literal(str(empty / 'data_0.parquet'))} (format parquet)"""
            )
    for name in BOOKKEEPING_TABLES:
        _write_whole(con, f"select * from {RAW_SCHEMA}.{name}", table_folder(root, name))
    _write_whole(con, "select source_file, loaded_at from _loaded_files", root / MIRRORED)
    con.execute("drop table _loaded_files; drop table _to_write")
    return MirrorResult(files_written, rows_written, time.perf_counter() - started)
