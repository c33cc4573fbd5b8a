"""The same dbt models on Spark give the same relations as on DuckDB, cell
for cell (docs/spark.md).

Each landing goes through the DuckDB pipeline (run_pipeline, the daily job),
which leaves a working copy holding the raw layer and every model. That raw
layer is mirrored to Parquet (sources/raw_parquet.py) and `dbt build` runs on
the project's `spark` target -- a local Spark session in this process -- over
the mirror. Every model relation Spark built is read back from its Parquet
files and must equal the DuckDB relation of the same name, row for row and
column for column, both ways.

- The hand landing (tests/fixtures/hand_landing), built once.
- A small generated landing delivered in two steps (loaded and built on
  DuckDB as the daily job's load and dbt steps do): a first build, then a
  new day, a late drop and a re-delivered, corrected drop at once, which
  Spark builds incrementally (the warehouse's incremental strategies in
  their Spark form) from a mirror that rewrites only what changed.

Spark builds the models only: the data tests ran on DuckDB, and equal
relations pass equal tests.

One Spark session serves the module: its metastore is fixed when it starts,
so the landings take turns in one Spark warehouse (the tests run in order)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import HAND_KEY
from landing_edits import copy_landing_without, correct_repair_orders, correctable_pair, deliver, drops, \
    ro_numbers_delivered

from orchestration import settings
from orchestration.spark.dbt_runner import SparkPaths, run_dbt
from sources.demo import generate_landing
from sources.landing import discover
from sources.loader import load_files
from sources.raw_parquet import mirror_raw_to_parquet

# Columns that record the build itself (dbt's invocation id, the clock):
# they differ between any two builds.
BUILD_RECORD_COLUMNS = {"build_id", "completed_at"}
EDITED_STORE = "S001"  # plain UTF-8 with LF: its files are edited in place


@pytest.fixture(scope="module")
def spark_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("spark")


def _spark_build(duckdb_working_copy: Path, root: Path, raw_parquet: Path, spark_warehouse: Path,
                 pseudonym_key: str) -> tuple[Path, SparkPaths, list]:
    """Freeze the DuckDB working copy, mirror its raw layer into
    `raw_parquet` and build every model on Spark; (the frozen copy, the
    Spark paths, the relations Spark built)."""
    root.mkdir(parents=True, exist_ok=True)
    duck = root / "duckdb_working_copy.duckdb"
    duckdb.connect(str(duckdb_working_copy)).execute("checkpoint").close()
    shutil.copy(duckdb_working_copy, duck)
    with duckdb.connect(str(duck)) as con:
        mirror_raw_to_parquet(con, raw_parquet)
    paths = SparkPaths(warehouse=spark_warehouse, raw_parquet=raw_parquet)
    with pytest.MonkeyPatch.context() as env:
        env.setenv(settings.PSEUDONYM_KEY_ENV, pseudonym_key)
        env.setenv("AFTERSALES_SPARK_SHUFFLE_PARTITIONS", "1")  # small data: one task per stage
        results = run_dbt(
            ["build", "--exclude-resource-type", "unit_test", "--exclude-resource-type", "test",
             "--vars", json.dumps({"code_version": settings.dbt_code_version()})],
            paths, target_path=root / "dbt_target",
        )
    built = sorted(
        (r.node.config.schema or r.node.schema, r.node.alias or r.node.name)
        for r in results
        if r.node.resource_type == "model" and r.node.config.materialized in ("table", "incremental")
    )
    return duck, paths, built


def _empty_spark_warehouse() -> None:
    """Drop every schema the models build (the session outlives dbt's runs)."""
    from pyspark.sql import SparkSession

    spark = SparkSession.builder.getOrCreate()
    for schema in ("seeds", "staging", "intermediate", "marts"):
        spark.sql(f"drop database if exists {schema} cascade")


def _columns(con, relation: str) -> list[tuple[str, str]]:
    return [(name, kind) for name, kind, *_ in con.execute(f"describe select * from {relation}").fetchall()]


def _differing(duck: Path, paths: SparkPaths, built: list[tuple[str, str]]) -> dict:
    """Per relation that differs: (rows only DuckDB has, rows only Spark has)."""
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
            only_duckdb, only_spark = (
                con.execute(f"select count(*) from (select {select} from {a} except all select {select} from {b})")
                .fetchone()[0]
                for a, b in ((ours, theirs), (theirs, ours))
            )
            if only_duckdb or only_spark:
                differing[ours] = (only_duckdb, only_spark)
    return differing


def test_hand_landing_every_relation_equals_duckdb(hand_run, spark_root):
    _, summary, *_ = hand_run
    duck, paths, built = _spark_build(summary.working_copy, spark_root / "hand", spark_root / "hand_raw",
                                      spark_root / "warehouse", HAND_KEY)
    assert {("marts", "kpi_store_month"), ("marts", "churn_scores"), ("staging", "stg_dms__repair_orders")} <= set(built)
    assert len(built) >= 50
    assert _differing(duck, paths, built) == {}


def _duckdb_build(warehouse: Path, landing: Path, scratch: Path) -> Path:
    """Load the landing's new files into `warehouse` and build the seeds and
    every model on DuckDB, as the daily job's load and dbt steps do."""
    with duckdb.connect(str(warehouse)) as con:
        load_files(con, discover(landing))
    env = dict(os.environ)
    env[settings.PSEUDONYM_KEY_ENV] = settings.DEMO_PSEUDONYM_KEY
    env.update(settings.duckdb_resources_env(warehouse))
    done = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "build",
         "--exclude-resource-type", "test", "--exclude-resource-type", "unit_test",
         "--project-dir", str(settings.DBT_PROJECT_DIR), "--profiles-dir", str(settings.DBT_PROJECT_DIR),
         "--target-path", str(scratch / "target"), "--log-path", str(scratch / "logs"),
         "--vars", json.dumps({"warehouse_path": str(warehouse), "code_version": settings.dbt_code_version()})],
        cwd=settings.DBT_PROJECT_DIR, env=env, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return warehouse


def test_generated_landing_incremental_day_equals_duckdb(spark_root):
    root = spark_root / "generated"
    generated, landing = root / "generated_landing", root / "landing"
    generate_landing(generated, seed=13, stores=2, years=1, vehicles_per_store=40, daily_days=12)
    dates = sorted({d.date for d in drops(generated)})
    new_day, late_day = dates[-1], dates[len(dates) // 2]
    copy_landing_without(generated, landing, lambda d: d.date in (new_day, late_day))
    warehouse = root / "warehouse.duckdb"
    key = settings.DEMO_PSEUDONYM_KEY

    _empty_spark_warehouse()
    first = _spark_build(_duckdb_build(warehouse, landing, root), root / "first", root / "raw",
                         spark_root / "warehouse", key)
    assert _differing(*first) == {}

    # The next day: the new day's drops, a late one, and an earlier drop of
    # one store re-delivered with one order raised and one removed.
    assert deliver(generated, landing, lambda d: d.date in (new_day, late_day))
    delivered = ro_numbers_delivered(landing, EDITED_STORE)
    folder, (raised, removed) = next(
        (folder, pair) for day in [*dates[1:-1], dates[0]]  # a daily drop, else the history extract
        if day != late_day and (folder := landing / "dms" / EDITED_STORE / day).is_dir()
        and (pair := correctable_pair(folder, delivered))
    )
    correct_repair_orders(folder, raised, removed, raise_by=Decimal("100.00"))
    duck, paths, built = _spark_build(_duckdb_build(warehouse, landing, root), root / "second", root / "raw",
                                      spark_root / "warehouse", key)
    assert ("intermediate", "int_customer_months_classified") in built
    assert _differing(duck, paths, built) == {}
    # Both builds were incremental and replaced the same part: the keys of
    # the customer-months whose row changed (the replace_changed strategy's
    # record) are the same, and there are some.
    assert _differing(duck, paths, [("intermediate", "int_customer_months_changed")]) == {}
    with duckdb.connect(str(duck), read_only=True) as con:
        assert con.execute("select count(*) from intermediate.int_customer_months_changed").fetchone()[0] > 0
        assert not con.execute("select bool_or(is_full_rebuild) from intermediate.int_build_window").fetchone()[0]
