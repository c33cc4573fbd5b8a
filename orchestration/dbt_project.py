"""The dbt project as Dagster sees it."""

from __future__ import annotations

from dagster_dbt import DbtProject

from orchestration import settings

dbt_project = DbtProject(project_dir=settings.DBT_PROJECT_DIR, profiles_dir=settings.DBT_PROJECT_DIR)
# Under `dagster dev` the manifest is rebuilt from the project; elsewhere the
# Makefile runs `dbt parse` first (dagster-dbt needs the manifest at import).
dbt_project.prepare_if_dev()
