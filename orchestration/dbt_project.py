"""The dbt project as Dagster sees it, and the dbt executable every part runs."""

from __future__ import annotations

from dagster_dbt import DbtCliResource, DbtProject
from dagster_dbt.compat import DBT_PYTHON_VERSION
from dagster_dbt.dbt_project import using_dagster_dev

from orchestration import settings

dbt_project = DbtProject(project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR)


class WarehouseDbtCli(DbtCliResource):
    """dbt as a subprocess, without the dbt adapter dagster-dbt would also
    open in the job's own process: it serves only the column metadata and
    row counts of `fetch_column_metadata` and `fetch_row_counts`, which this
    project does not ask for, and loading it (dbt, the project, the profile)
    held up every build's start by 2.3 s."""

    def _initialize_dbt_core_adapter(self, args):
        return None

    @property
    def _cli_version(self):
        """The version of dbt the executable runs, which dagster-dbt reads
        from `dbt --version` in a subprocess on every build (3.0 s here,
        before the build's own dbt process starts) to tell dbt-core from
        dbt Fusion. The executables this project runs (settings.DBT_EXECUTABLE
        and the Spark one beside it) are dbt-core's, installed in this
        environment: its version is that of the package."""
        return DBT_PYTHON_VERSION


def dbt_cli() -> DbtCliResource:
    return WarehouseDbtCli(
        project_dir=dbt_project, profiles_dir=str(settings.DBT_PROJECT_DIR), dbt_executable=settings.DBT_EXECUTABLE
    )


def _parse_in_place() -> None:
    """`dbt parse` into a folder of its own, then each file moved over the
    project's in one rename: a job starting meanwhile reads the old manifest or
    the new one, never a half-written file."""
    import os
    import tempfile
    from pathlib import Path

    target = Path(dbt_project.target_path)
    target.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target, prefix="parse-") as fresh:
        dbt_cli().cli(["parse", "--quiet"], target_path=Path(fresh)).wait()
        for name in ("manifest.json", "partial_parse.msgpack", "semantic_manifest.json"):
            if (Path(fresh) / name).exists():
                os.replace(Path(fresh) / name, target / name)


# dagster-dbt needs the manifest at import. Under `dagster dev` it is rebuilt
# from the project here, so model edits show on reload; elsewhere the Makefile
# runs `dbt parse` first. (DbtProject.prepare_if_dev would run a `dbt` looked
# up on PATH, which fails when the venv is not activated.)
if using_dagster_dev():
    _parse_in_place()
