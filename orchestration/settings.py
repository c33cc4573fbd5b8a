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
PSEUDONYM_KEY_ENV = "AFTERSALES_PSEUDONYM_KEY"

# The key the demo's pseudonyms are made with (dbt_project/macros/privacy.sql
# falls back to it too). It is public, so it protects nothing: only a landing
# the demo generator wrote may use it.
DEMO_PSEUDONYM_KEY = "demo-only-pseudonym-key"

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


class SettingsError(Exception):
    """A setting the job cannot run with; the message says what to set."""


def pseudonym_key(landing: Path) -> str:
    """The key of the customer pseudonyms (SPEC section 9): AFTERSALES_PSEUDONYM_KEY.
    Unset (or set to the public demo key) it is refused, except for a landing
    the demo generator wrote, whose data is made up."""
    from sources.demo import is_demo_landing

    key = os.environ.get(PSEUDONYM_KEY_ENV, "")
    if key and key != DEMO_PSEUDONYM_KEY:
        return key
    if is_demo_landing(landing):
        return DEMO_PSEUDONYM_KEY
    problem = "is not set" if not key else "is the public demo key"
    raise SettingsError(
        f"{PSEUDONYM_KEY_ENV} {problem}, and {landing} is not a demo landing: set it to a long random "
        f"secret (e.g. `export {PSEUDONYM_KEY_ENV}=$(openssl rand -hex 32)`) and keep it; "
        "changing it changes every customer_key"
    )
