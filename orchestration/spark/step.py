"""The dbt step of a run on Spark (`aftersales run --engine spark`).

The rest of the job is the same on both engines: the loader writes the raw
layer into the DuckDB working copy, and the checks, publishing, the pages and
the PostgreSQL copy read the working copy after dbt. On Spark the dbt step

1. mirrors the raw layer to Parquet (sources/raw_parquet.py), writing only
   the files loaded since the last mirror;
2. runs `dbt build` on the `spark` target through `aftersales-dbt-spark`
   (dbt_cli.py), which dagster-dbt streams as it streams `dbt` on DuckDB:
   the models are assets, the data tests asset checks, run on Spark's tables;
3. copies what the later steps read from Spark's tables into the working
   copy (`relations_read_after_dbt`): the analyst schemas, which the checks
   validate and publishing sends on, and the build's record of what it
   changed, which lets them work on the changed rows only.

Spark keeps its own tables and metastore (the analysts' Spark catalog) and
the raw mirror beside the working copy, owner-only: they hold raw rows.
`AFTERSALES_SPARK_WAREHOUSE` and `AFTERSALES_RAW_PARQUET` put them elsewhere.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb

from orchestration import settings
from orchestration.publish import ANALYST_SCHEMAS
from orchestration.spark.dbt_runner import RAW_PARQUET_ENV, SPARK_WAREHOUSE_ENV, SparkPaths
from sources.parsing import quote_literal

# The schemas published to analysts that dbt builds: all but `ops`, which the job writes itself.
DBT_ANALYST_SCHEMAS = tuple(schema for schema in ANALYST_SCHEMAS if schema != "ops")
OWNER_ONLY_FOLDER = 0o700
DBT_SPARK_EXECUTABLE = str(Path(settings.DBT_EXECUTABLE).with_name("aftersales-dbt-spark"))


def spark_paths(working: Path) -> SparkPaths:
    """Spark's warehouse and the raw mirror: the variables when set, else
    folders `spark/` and `raw_parquet/` beside the working copy."""
    folder = Path(working).parent
    return SparkPaths(
        warehouse=Path(os.environ.get(SPARK_WAREHOUSE_ENV) or folder / "spark"),
        raw_parquet=Path(os.environ.get(RAW_PARQUET_ENV) or folder / "raw_parquet"),
    )


def dbt_cli():
    """The dbt resource of a run on Spark: the project's `spark` target."""
    from orchestration.dbt_project import WarehouseDbtCli, dbt_project

    return WarehouseDbtCli(project_dir=dbt_project, profiles_dir=str(settings.DBT_PROJECT_DIR),
                          dbt_executable=DBT_SPARK_EXECUTABLE, target="spark")


def mirror_raw(working: Path, paths: SparkPaths) -> str:
    """Mirror the working copy's raw layer to `paths.raw_parquet` and export
    the paths for dbt; a line saying what was written."""
    from sources.raw_parquet import mirror_raw_to_parquet

    # Spark writes files with Hadoop's permissions, not this process's umask:
    # the folders themselves keep others out.
    for folder in paths.folders():
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(OWNER_ONLY_FOLDER)
    os.environ.update(paths.env())
    with duckdb.connect(str(working)) as con:
        return mirror_raw_to_parquet(con, paths.raw_parquet).describe()


@dataclass(frozen=True)
class CopiedRelation:
    schema: str
    name: str
    # Column name -> the type it is cast to in DuckDB (a contract's or a
    # seed's column type); empty: as Spark wrote it.
    types: dict[str, str]

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"


def relations_read_after_dbt(manifest_path: Path) -> list[CopiedRelation]:
    """Every model and seed of the dbt analyst schemas, with the types their
    contracts (models) or column_types (seeds) name, and the intermediate
    relations the checks and publishing read: the build window and what the
    build changed (expectations.suites.CHANGED_ROWS, orchestration/publish.py),
    some of which the incremental strategies write beside their model."""
    from expectations.suites import CHANGED_ROWS, CHANGED_ROWS_READS
    from orchestration.publish import BUILD_RECORD_RELATIONS

    intermediate = {name for condition in CHANGED_ROWS.values() for name in CHANGED_ROWS_READS.findall(condition)}
    intermediate |= {relation.split(".", 1)[1] for relation in BUILD_RECORD_RELATIONS}
    manifest = json.loads(Path(manifest_path).read_text())
    copied = [CopiedRelation("intermediate", name, {}) for name in intermediate]
    for node in manifest["nodes"].values():
        schema = node["config"].get("schema") or node["schema"]
        if node["resource_type"] not in ("model", "seed") or schema not in DBT_ANALYST_SCHEMAS:
            continue
        if node["resource_type"] == "seed":
            types = dict(node["config"].get("column_types") or {})
        elif node["config"].get("contract", {}).get("enforced"):
            types = {c["name"]: c["data_type"] for c in node["columns"].values()}
        else:
            types = {}
        copied.append(CopiedRelation(schema, node["alias"] or node["name"], types))
    return sorted(copied, key=lambda c: c.relation)


def copy_to_working_copy(working: Path, paths: SparkPaths, relations: list[CopiedRelation]) -> tuple[int, float]:
    """Replace each relation in the DuckDB working copy by Spark's table, in
    one transaction; (rows copied, seconds). A relation Spark does not hold
    (a record an incremental strategy has not written yet) is dropped."""
    started = time.perf_counter()
    rows = 0
    with duckdb.connect(str(working), config=settings.duckdb_resources(Path(working))) as con:
        con.execute("begin")
        for r in relations:
            if not any(paths.table_folder(r.schema, r.name).glob("*.parquet")):
                con.execute(f'drop table if exists {r.schema}."{r.name}"')
                continue
            files = quote_literal(str(paths.table_folder(r.schema, r.name) / "*.parquet"))
            columns = [name for name, *_ in con.execute(f"describe select * from read_parquet({files})").fetchall()]
            select = ", ".join(
                f'cast("{c}" as {r.types[c]}) as "{c}"' if c in r.types else f'"{c}"' for c in columns
            )
            con.execute(f"create schema if not exists {r.schema}")
            con.execute(f'create or replace table {r.schema}."{r.name}" as '
                        f"select {select} from read_parquet({files})")
            rows += con.execute(f'select count(*) from {r.schema}."{r.name}"').fetchone()[0]
        con.execute("commit")
    return rows, time.perf_counter() - started
