"""Run dbt on Spark in this process.

The dbt profile's `spark` target (dbt_project/profiles.yml) runs on a Spark
session dbt-spark starts in the calling process. Running dbt here, not as a
subprocess, lets several dbt commands share one session (its start costs
seconds) and lets the Python models run in it (python_models.py). The
session's metastore is an embedded Derby database: one process at a time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from orchestration import settings
from orchestration.spark import python_models

SPARK_WAREHOUSE_ENV = "AFTERSALES_SPARK_WAREHOUSE"
RAW_PARQUET_ENV = "AFTERSALES_RAW_PARQUET"


@dataclass(frozen=True)
class SparkPaths:
    """Where Spark's tables and metastore live, and the raw Parquet mirror."""

    warehouse: Path
    raw_parquet: Path

    def folders(self) -> tuple[Path, Path]:
        return self.warehouse, self.raw_parquet

    def env(self) -> dict[str, str]:
        return {SPARK_WAREHOUSE_ENV: str(self.warehouse.resolve()), RAW_PARQUET_ENV: str(self.raw_parquet.resolve())}

    def table_folder(self, schema: str, table: str) -> Path:
        """A managed table's Parquet folder (spark.sql.warehouse.dir in the profile)."""
        return self.warehouse / "tables" / f"{schema}.db" / table


class DbtOnSparkError(RuntimeError):
    pass


def run_dbt(args: list[str], paths: SparkPaths, *, target_path: Path | None = None) -> list:
    """Run one dbt command on the Spark target; its results, or
    DbtOnSparkError naming what failed."""
    from dbt.cli.main import dbtRunner

    python_models.install()
    paths.warehouse.mkdir(parents=True, exist_ok=True)
    os.environ.update(paths.env())
    command = [
        *args,
        "--target", "spark",
        "--project-dir", str(settings.DBT_PROJECT_DIR),
        "--profiles-dir", str(settings.DBT_PROJECT_DIR),
    ]
    if target_path is not None:
        command += ["--target-path", str(target_path)]
    result = dbtRunner().invoke(command)
    if result.exception is not None:
        raise DbtOnSparkError(f"dbt {' '.join(args)} on Spark: {result.exception}") from result.exception
    results = list(result.result or [])
    failed = [r for r in results if str(r.status) in ("error", "fail")]
    if failed or not result.success:
        names = ", ".join(f"{r.node.name} ({r.status}: {(r.message or '').splitlines()[0][:300]})" for r in failed)
        raise DbtOnSparkError(f"dbt {' '.join(args)} on Spark failed: {names or 'see the dbt log'}")
    return results
