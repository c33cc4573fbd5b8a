"""`dbt build` of the project's models, and `dbt test` of one model's data
tests, on a DuckDB warehouse, as the pipeline's dbt step runs them, for
tests that build or test outside the pipeline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from orchestration import settings


def _env(database: Path, pseudonym_key: str) -> dict[str, str]:
    env = dict(os.environ)
    env[settings.PSEUDONYM_KEY_ENV] = pseudonym_key
    env[settings.WAREHOUSE_ENV] = str(database)
    env.update(settings.duckdb_resources_env(database))
    return env


def _dbt(args: list[str], database: Path, scratch: Path, pseudonym_key: str, target: Path | None = None):
    dbt_vars = {"code_version": settings.dbt_code_version()}
    return subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), *args,
         "--project-dir", str(settings.DBT_PROJECT_DIR), "--profiles-dir", str(settings.DBT_PROJECT_DIR),
         "--target-path", str(target or scratch / "target"), "--log-path", str(scratch / "logs"),
         "--vars", json.dumps(dbt_vars)],
        cwd=settings.DBT_PROJECT_DIR, env=_env(database, pseudonym_key), capture_output=True, text=True,
    )


def build_models(database: Path, scratch: Path, pseudonym_key: str, *, full_refresh: bool = False,
                 target: Path | None = None) -> None:
    """Build the seeds and every model (no data or unit tests) on `database`
    with the variables the pipeline's dbt step passes; dbt's logs go under
    `scratch`, its target there too unless `target` names one. Builds that
    share a target and a warehouse path parse the project once: dbt parses
    it all again when the profile's path changes."""
    done = _dbt(["build", *(["--full-refresh"] if full_refresh else []),
                 "--exclude-resource-type", "unit_test", "--exclude-resource-type", "test"],
                database, scratch, pseudonym_key, target)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]


def data_test_failures(database: Path, scratch: Path, pseudonym_key: str, model: str) -> dict[str, int]:
    """Run the data tests of `model` on `database` as the pipeline's dbt step
    runs them after its models: {test name: failures}."""
    done = _dbt(["test", "--select", model, "--exclude-resource-type", "unit_test"], database, scratch, pseudonym_key)
    results = json.loads((scratch / "target" / "run_results.json").read_text())["results"]
    assert results, done.stdout[-4000:] + done.stderr[-2000:]
    return {r["unique_id"].split(".")[2]: r["failures"] for r in results}
