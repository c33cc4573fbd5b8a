"""Dagster resources: the warehouse file, the landing root and output folders."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource

from orchestration import settings
from orchestration.file_modes import owner_only


class WarehouseResource(ConfigurableResource):
    """The DuckDB warehouse: `path` is the working copy the job writes (every
    layer, owner-only), `published_path` the file analysts read (the analyst
    relations only), which only changes when the publish step swaps a checked
    build in (orchestration/publish.py).

    DuckDB allows one writing process, so every use opens a connection for
    the step and closes it before the next step (dbt runs in its own process
    and must find the file free)."""

    path: str
    published_path: str

    def ensure_working_copy(self) -> None:
        """Create the working copy, owner-only, when it is missing (the job
        then loads the whole landing); the published file cannot seed it, as
        it holds no raw layer."""
        from orchestration.file_modes import create_working_copy

        create_working_copy(Path(self.path))

    @contextmanager
    def connect(self, read_only: bool = False):
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        if not read_only:
            self.ensure_working_copy()
        config = {} if read_only else settings.duckdb_resources(Path(self.path))
        # The write-ahead log and spill files hold raw rows too: owner-only.
        with owner_only():
            con = duckdb.connect(self.path, read_only=read_only, config=config)
            try:
                yield con
            finally:
                con.close()


def warehouse_resource(published: Path) -> WarehouseResource:
    from orchestration.publish import working_copy_path

    return WarehouseResource(path=str(working_copy_path(published)), published_path=str(published))


class LandingResource(ConfigurableResource):
    """The landing root of SPEC section 3."""

    root: str


class OutputsResource(ConfigurableResource):
    """Folders the job writes for people: dashboards and Data Docs."""

    dashboards_dir: str
    data_docs_dir: str


class PostgresResource(ConfigurableResource):
    """The group's PostgreSQL server (orchestration/postgres/): `dsn` empty
    means none, and the publish to it is skipped."""

    dsn: str = ""


def default_resources() -> dict:
    from orchestration.dbt_project import dbt_cli

    return {
        "warehouse": warehouse_resource(settings.warehouse_path()),
        "landing": LandingResource(root=str(settings.landing_path())),
        "outputs": OutputsResource(
            dashboards_dir=str(settings.dashboards_path()), data_docs_dir=str(settings.data_docs_path())
        ),
        "postgres": PostgresResource(dsn=settings.postgres_dsn()),
        "dbt": dbt_cli(),
    }
