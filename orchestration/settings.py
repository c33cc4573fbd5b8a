"""Where things are. One environment variable per location, read by every
part (the dbt profile reads AFTERSALES_DUCKDB too), with defaults under the
project's var/ folder so a fresh clone needs no configuration."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
VAR_DIR = PROJECT_ROOT / "var"

WAREHOUSE_ENV = "AFTERSALES_DUCKDB"
LANDING_ENV = "AFTERSALES_LANDING"
DASHBOARDS_ENV = "AFTERSALES_DASHBOARDS"
DATA_DOCS_ENV = "AFTERSALES_DATA_DOCS"
FIRST_DATE_ENV = "AFTERSALES_FIRST_DROP_DATE"

# Daily partitions start here unless the environment says otherwise; a landing
# with older drops needs AFTERSALES_FIRST_DROP_DATE set before Dagster loads.
DEFAULT_FIRST_DROP_DATE = "2020-01-01"


def warehouse_path() -> Path:
    return Path(os.environ.get(WAREHOUSE_ENV, VAR_DIR / "warehouse.duckdb")).resolve()


def landing_path() -> Path:
    return Path(os.environ.get(LANDING_ENV, VAR_DIR / "demo_landing")).resolve()


def dashboards_path() -> Path:
    return Path(os.environ.get(DASHBOARDS_ENV, VAR_DIR / "dashboards")).resolve()


def data_docs_path() -> Path:
    return Path(os.environ.get(DATA_DOCS_ENV, VAR_DIR / "data_docs")).resolve()


def first_drop_date() -> str:
    return os.environ.get(FIRST_DATE_ENV, DEFAULT_FIRST_DROP_DATE)
