"""The same dbt models on Spark give the same relations as on DuckDB, cell
for cell (docs/spark.md).

- The hand landing (tests/fixtures/hand_landing) through `aftersales run
  --engine spark` (run_pipeline): the raw layer is loaded into DuckDB and
  mirrored to Parquet, `dbt build` (models and data tests) runs on the
  project's `spark` target, and the checks, publishing and pages follow.
  Every relation Spark built, read back from its Parquet files, must equal
  the DuckDB run's relation of the same name, row for row and column for
  column, both ways; and so must every relation of the two published files.
- A small generated landing delivered in two steps (loaded and built on
  DuckDB as the daily job's load and dbt steps do): a first build, then a
  new day, a late drop and a re-delivered, corrected drop at once, which
  Spark builds incrementally (the warehouse's incremental strategies in
  their Spark form) from a mirror that rewrites only what changed. Here
  Spark builds the models only, in this process's session
  (orchestration/spark/dbt_runner.py): the data tests ran on DuckDB, and
  equal relations pass equal tests.
- The project's dbt unit tests pass on Spark, as they do on DuckDB.

The run on Spark and the unit tests run dbt in processes of their own, each with its session
and metastore; the generated landing's builds share one session and metastore
in this process (its metastore is fixed when it starts), in one Spark
warehouse (the tests run in order)."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import HAND_KEY, HAND_LANDING
from dbt_runs import build_models
from landing_edits import copy_landing_without, correct_repair_orders, correctable_pair, deliver, drops, \
    ro_numbers_delivered

from orchestration import settings
from orchestration.pipeline import run_pipeline
from orchestration.spark.dbt_runner import RAW_PARQUET_ENV, SPARK_WAREHOUSE_ENV, SparkPaths, run_dbt
from orchestration.spark.step import DBT_SPARK_EXECUTABLE, spark_paths
from sources.contract import LANDING_TABLES
from sources.demo import generate_landing
from sources.landing import discover
from sources.loader import RAW_SCHEMA, load_files
from sources.raw_parquet import mirror_raw_to_parquet

# Columns that record the build itself (dbt's invocation id, the clock of the
# build and of its validation) and when the files were loaded: they differ
# between any two runs.
BUILD_RECORD_COLUMNS = {"build_id", "completed_at", "validated_at",
                        "loaded_at", "last_loaded_at", "loaded_through", "changes_loaded_after"}
# Columns made of the engine's own row hashes (`row_hash`: DuckDB's hash,
# Spark's xxhash64): the featured rows' fit_inputs_hash and the churn models'
# fingerprints summed from it. Each engine compares only its own; the
# models, their training rows and the scores are the same.
ENGINE_HASH_COLUMNS = {"fit_inputs_hash", "fingerprint", "model_fingerprint"}
EDITED_STORE = "S001"  # plain UTF-8 with LF: its files are edited in place


@pytest.fixture(scope="module")
def spark_root(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("spark")


def _raw_rows_by_table(con) -> dict[str, int]:
    return {t.name: con.execute(f"select count(*) from {RAW_SCHEMA}.{t.name}").fetchone()[0]
            for t in LANDING_TABLES}


def _parquet_rows_by_table(con, raw_parquet: Path) -> dict[str, int]:
    return {t.name: con.execute("select count(*) from read_parquet(?)",
                                [str(raw_parquet / t.name / "**" / "*.parquet")]).fetchone()[0]
            for t in LANDING_TABLES}


def _spark_build(duckdb_working_copy: Path, root: Path, raw_parquet: Path, spark_warehouse: Path,
                 pseudonym_key: str) -> tuple[Path, SparkPaths, list]:
    """Freeze the DuckDB working copy, mirror its raw layer into
    `raw_parquet` and build every model on Spark; (the frozen copy, the
    Spark paths, the relations Spark built)."""
    root.mkdir(parents=True, exist_ok=True)
    duck = root / "duckdb_working_copy.duckdb"
    duckdb.connect(str(duckdb_working_copy)).execute("checkpoint").close()
    shutil.copy(duckdb_working_copy, duck)
    first_mirror = not raw_parquet.exists()
    with duckdb.connect(str(duck)) as con:
        mirrored = mirror_raw_to_parquet(con, raw_parquet)
        raw_rows = _raw_rows_by_table(con)
        assert _parquet_rows_by_table(con, raw_parquet) == raw_rows
    # The first mirror writes every raw row; a later one only the files
    # loaded since.
    if first_mirror:
        assert mirrored.rows_written == sum(raw_rows.values())
    else:
        assert 0 < mirrored.rows_written < sum(raw_rows.values())
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


def _columns(con, relation: str) -> list[tuple[str, str]]:
    return [(name, kind) for name, kind, *_ in con.execute(f"describe select * from {relation}").fetchall()]


def _rows_differ(con, ours: str, theirs: str) -> tuple[int, int]:
    """(rows only `ours` has, rows only `theirs` has), both relations read in
    `con`, leaving out the build's own record and the engine's own hashes."""
    columns = [(c, kind) for c, kind in _columns(con, ours) if c not in BUILD_RECORD_COLUMNS | ENGINE_HASH_COLUMNS]
    their_columns = dict(_columns(con, theirs))
    assert [c for c, _ in columns if c not in their_columns] == [], ours
    # Doubles are compared to 12 significant digits: the two engines add in
    # different orders.
    select = ", ".join(
        f"round({c}, 12 - cast(ceil(log10(abs({c}) + 1e-300)) as int))" if kind == "DOUBLE" else c
        for c, kind in columns
    )
    return tuple(
        con.execute(f"select count(*) from (select {select} from {a} except all select {select} from {b})")
        .fetchone()[0]
        for a, b in ((ours, theirs), (theirs, ours))
    )


def _differing(duck: Path, paths: SparkPaths, built: list[tuple[str, str]]) -> dict:
    """Per relation Spark built that differs from DuckDB's: (rows only DuckDB
    has, rows only Spark has)."""
    with duckdb.connect(str(duck), read_only=True) as con:
        differing = {
            f"{schema}.{name}": _rows_differ(con, f"{schema}.{name}",
                                             f"read_parquet('{paths.table_folder(schema, name)}/*.parquet')")
            for schema, name in built
        }
    return {relation: rows for relation, rows in differing.items() if rows != (0, 0)}


def _relations(con, catalog: str) -> set[str]:
    """Its tables and views (the customer-month marts are views on DuckDB, tables on Spark)."""
    return {f"{schema}.{name}" for schema, name in con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ? union all "
        "select schema_name, view_name from duckdb_views() where database_name = ? and not internal",
        [catalog, catalog]).fetchall()}


def _published_differing(duck_published: Path, spark_published: Path) -> dict:
    """Per relation of either published file that differs from the other's:
    (rows only DuckDB's has, rows only Spark's has); a relation one lacks, None."""
    with duckdb.connect() as con:
        con.execute(f"attach '{duck_published}' as duck (read_only)")
        con.execute(f"attach '{spark_published}' as spark (read_only)")
        ours, theirs = _relations(con, "duck"), _relations(con, "spark")
        differing = {relation: None for relation in ours ^ theirs}
        for relation in sorted(ours & theirs):
            rows = _rows_differ(con, f"duck.{relation}", f"spark.{relation}")
            if rows != (0, 0):
                differing[relation] = rows
    return differing


@pytest.fixture(scope="module")
def spark_hand_run(spark_root):
    """`aftersales run --engine spark` over the hand landing: (run summary, its folder)."""
    root = spark_root / "hand_run"
    with pytest.MonkeyPatch.context() as env:
        env.setenv(settings.PSEUDONYM_KEY_ENV, HAND_KEY)
        env.setenv("AFTERSALES_SPARK_SHUFFLE_PARTITIONS", "1")  # small data: one task per stage
        # The run sets these: the context puts them back as they were.
        for name in (settings.ENGINE_ENV, settings.WAREHOUSE_ENV, settings.LANDING_ENV, SPARK_WAREHOUSE_ENV,
                     RAW_PARQUET_ENV):
            env.delenv(name, raising=False)
        run = run_pipeline(landing=HAND_LANDING, warehouse=root / "wh.duckdb", dashboards_dir=root / "dash",
                           data_docs_dir=root / "docs", engine="spark")
    assert run.exit_code == 0 and run.published, (run.errors, run.failed_checks, run.skipped_steps)
    return run, root


def test_a_run_on_spark_equals_a_run_on_duckdb(hand_run, spark_hand_run):
    """`aftersales run --engine spark` on the hand landing: every relation
    Spark built equals DuckDB's, its dbt tests ran on Spark and passed, and
    the file it published equals the DuckDB run's, relation for relation."""
    duck_published, duck_run, *_ = hand_run
    run, root = spark_hand_run

    paths = spark_paths(run.working_copy)
    assert paths.warehouse == root / "spark"
    # Spark's tables and the raw mirror hold raw rows: only the owner may enter their folders.
    for folder in paths.folders():
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    built = sorted((folder.parent.name.removesuffix(".db"), folder.name)
                   for folder in paths.warehouse.glob("tables/*.db/*") if folder.is_dir())
    assert {("marts", "kpi_store_month"), ("marts", "churn_scores"), ("staging", "stg_dms__repair_orders")} <= set(built)
    assert len(built) >= 50
    assert _differing(duck_run.working_copy, paths, built) == {}

    results = json.loads((root / "dbt_target" / "run_results.json").read_text())
    assert results["args"]["target"] == "spark"
    tests = [r["status"] for r in results["results"] if r["unique_id"].startswith("test.")]
    assert len(tests) > 100 and set(tests) <= {"pass", "warn"}, sorted(set(tests))

    assert _published_differing(duck_published, run.warehouse) == {}
    assert (root / "dash" / "index.html").is_file()


def test_the_dbt_unit_tests_pass_on_spark(spark_hand_run, tmp_path):
    """Every unit test of the project (the same ones that pass on DuckDB,
    tests/test_dbt_project.py) passes on Spark: their fixtures are written
    once for both engines (dbt_project/macros/unit_test_fixtures.sql). They
    read their inputs' column types from the hand run's Spark tables."""
    run, root = spark_hand_run
    env = {**os.environ, **spark_paths(run.working_copy).env(), settings.PSEUDONYM_KEY_ENV: HAND_KEY,
           # docs/spark.md, "Unit tests": without it a fixture's plan sometimes fails in a task.
           "AFTERSALES_SPARK_ADAPTIVE": "false"}
    proc = subprocess.run(
        [DBT_SPARK_EXECUTABLE, "test", "--select", "test_type:unit", "--target", "spark",
         "--profiles-dir", str(settings.DBT_PROJECT_DIR), "--target-path", str(tmp_path / "target")],
        cwd=settings.DBT_PROJECT_DIR, env=env, capture_output=True, text=True,
    )
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())
    statuses = {r["unique_id"]: r["status"] for r in results["results"] if r["unique_id"].startswith("unit_test.")}
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    assert set(statuses) == set(manifest["unit_tests"]) and len(statuses) >= 30
    failed = {name: status for name, status in statuses.items() if status != "pass"}
    assert failed == {} and proc.returncode == 0, (failed, proc.stdout[-6000:])


def _duckdb_build(warehouse: Path, landing: Path, scratch: Path) -> Path:
    """Load the landing's new files into `warehouse` and build the seeds and
    every model on DuckDB, as the daily job's load and dbt steps do."""
    with duckdb.connect(str(warehouse)) as con:
        load_files(con, discover(landing))
    build_models(warehouse, scratch, settings.DEMO_PSEUDONYM_KEY)
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
