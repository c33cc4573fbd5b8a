"""The same dbt models on Spark give the same relations as on DuckDB, cell
for cell (docs/spark.md).

The hand landing's pipeline run (conftest's hand_run: DuckDB, the daily job)
leaves a working copy holding the raw layer and every model. Its raw layer is
mirrored to Parquet (sources/raw_parquet.py), and `dbt build` runs on the
project's `spark` target -- a local Spark session in this process -- over
that mirror. Every model relation Spark built is read back from its Parquet
files and must equal the DuckDB relation of the same name, row for row and
column for column, both ways. One Spark session serves the module."""

from __future__ import annotations

import json
import shutil

import duckdb
import pytest
from conftest import HAND_KEY

from orchestration import settings
from orchestration.spark.dbt_runner import SparkPaths, run_dbt
from sources.raw_parquet import mirror_raw_to_parquet


# Columns that record the build itself (dbt's invocation id, the clock):
# they differ between any two builds.
BUILD_RECORD_COLUMNS = {"build_id", "completed_at"}


def _built_relations(results) -> list[tuple[str, str]]:
    """(schema, name) of each model the dbt command built."""
    return sorted(
        (r.node.config.schema or r.node.schema, r.node.alias or r.node.name)
        for r in results
        if r.node.resource_type == "model" and r.node.config.materialized in ("table", "incremental")
    )


@pytest.fixture(scope="module")
def spark_build(hand_run, tmp_path_factory):
    warehouse, summary, *_ = hand_run
    root = tmp_path_factory.mktemp("spark")
    duck = root / "duckdb_working_copy.duckdb"
    shutil.copy(summary.working_copy, duck)
    with duckdb.connect(str(duck)) as con:
        mirror_raw_to_parquet(con, root / "raw_parquet")
    paths = SparkPaths(warehouse=root / "spark", raw_parquet=root / "raw_parquet")
    with pytest.MonkeyPatch.context() as env:
        env.setenv(settings.PSEUDONYM_KEY_ENV, HAND_KEY)
        results = run_dbt(
            ["build", "--exclude-resource-type", "unit_test",
             "--vars", json.dumps({"code_version": settings.dbt_code_version()})],
            paths, target_path=root / "dbt_target",
        )
    return duck, paths, _built_relations(results)


def _columns(con, relation: str) -> list[tuple[str, str]]:
    return [(name, kind) for name, kind, *_ in con.execute(f"describe select * from {relation}").fetchall()]


def test_spark_builds_every_model_and_each_equals_duckdb(spark_build):
    duck, paths, built = spark_build
    assert ("marts", "kpi_store_month") in built
    differing = {}
    with duckdb.connect(str(duck), read_only=True) as con:
        for schema, name in built:
            ours = f"{schema}.{name}"
            theirs = f"read_parquet('{paths.table_folder(schema, name)}/*.parquet')"
            columns = [(c, kind) for c, kind in _columns(con, ours) if c not in BUILD_RECORD_COLUMNS]
            spark_columns = dict(_columns(con, theirs))
            assert [c for c, _ in columns if c not in spark_columns] == [], ours
            # Doubles are compared to 12 significant digits: the two engines
            # add in different orders.
            select = ", ".join(
                f"round({c}, 12 - cast(ceil(log10(abs({c}) + 1e-300)) as int))" if kind == "DOUBLE" else c
                for c, kind in columns
            )
            only_duckdb = con.execute(
                f"select count(*) from (select {select} from {ours} except all select {select} from {theirs})"
            ).fetchone()[0]
            only_spark = con.execute(
                f"select count(*) from (select {select} from {theirs} except all select {select} from {ours})"
            ).fetchone()[0]
            if only_duckdb or only_spark:
                differing[ours] = (only_duckdb, only_spark)
    assert differing == {}
