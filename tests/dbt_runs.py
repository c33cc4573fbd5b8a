"""`dbt build` of the project's models on a DuckDB warehouse, as the
pipeline's dbt step runs it, for tests that build outside the pipeline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from orchestration import settings


def build_models(database: Path, scratch: Path, pseudonym_key: str, *, full_refresh: bool = False,
                 target: Path | None = None) -> None:
    """Build the seeds and every model (no data or unit tests) on `database`
    with the variables the pipeline's dbt step passes; dbt's logs go under
    `scratch`, its target there too unless `target` names one. Builds that
    share a target parse the project once: the warehouse is named by the
    environment the profile reads, not by a var, so their vars are the same."""
    env = dict(os.environ)
    env[settings.PSEUDONYM_KEY_ENV] = pseudonym_key
    env[settings.WAREHOUSE_ENV] = str(database)
    env.update(settings.duckdb_resources_env(database))
    dbt_vars = {"code_version": settings.dbt_code_version()}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("dbt")), "build", *(["--full-refresh"] if full_refresh else []),
         "--exclude-resource-type", "unit_test", "--exclude-resource-type", "test",
         "--project-dir", str(settings.DBT_PROJECT_DIR), "--profiles-dir", str(settings.DBT_PROJECT_DIR),
         "--target-path", str(target or scratch / "target"), "--log-path", str(scratch / "logs"),
         "--vars", json.dumps(dbt_vars)],
        cwd=settings.DBT_PROJECT_DIR, env=env, capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
