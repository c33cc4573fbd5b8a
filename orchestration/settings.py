"""Where things are. One environment variable per location, read by every
part (the dbt profile reads AFTERSALES_DUCKDB too), with defaults under the
project's var/ folder so a fresh clone needs no configuration."""

from __future__ import annotations

import os
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
VAR_DIR = PROJECT_ROOT / "var"
# The dbt installed beside the running interpreter: the venv's bin folder need
# not be on PATH (`make dev` and `.venv/bin/aftersales` do not activate it).
# No resolve(): the venv's python may be a symlink to the system's.
DBT_EXECUTABLE = str(Path(sys.executable).with_name("dbt"))

WAREHOUSE_ENV = "AFTERSALES_DUCKDB"
LANDING_ENV = "AFTERSALES_LANDING"
DASHBOARDS_ENV = "AFTERSALES_DASHBOARDS"
DATA_DOCS_ENV = "AFTERSALES_DATA_DOCS"
FIRST_DATE_ENV = "AFTERSALES_FIRST_DROP_DATE"
PSEUDONYM_KEY_ENV = "AFTERSALES_PSEUDONYM_KEY"
# The group's PostgreSQL server the published relations are served from
# (a libpq connection string or URI); unset, nothing is sent to a server.
POSTGRES_DSN_ENV = "AFTERSALES_POSTGRES_DSN"
# DuckDB's resources for every process that writes the warehouse (the loader,
# dbt through its profile, the checks): memory limit, threads and the folder
# it spills to when a build needs more than the limit.
MEMORY_LIMIT_ENV = "AFTERSALES_DUCKDB_MEMORY_LIMIT"
THREADS_ENV = "AFTERSALES_DUCKDB_THREADS"
SPILL_DIR_ENV = "AFTERSALES_DUCKDB_SPILL_DIR"
# The engine the dbt models build on: duckdb (the default) or spark
# (docs/spark.md); `aftersales run --engine` sets it for the run.
ENGINE_ENV = "AFTERSALES_ENGINE"
ENGINES = ("duckdb", "spark")
# The share of the machine's memory DuckDB may hold by default: the rest is
# for Python, dbt, Dagster and the operating system's file cache.
DEFAULT_MEMORY_SHARE = 0.25

# The key the demo's pseudonyms are made with (dbt_project/macros/privacy.sql
# falls back to it too). It is public, so it protects nothing: only a landing
# the demo generator wrote may use it.
DEMO_PSEUDONYM_KEY = "demo-only-pseudonym-key"

# Daily partitions start here, or at the landing's first drop if that is
# earlier (first_drop_date); AFTERSALES_FIRST_DROP_DATE overrides both.
DEFAULT_FIRST_DROP_DATE = "2020-01-01"


def engine() -> str:
    name = os.environ.get(ENGINE_ENV) or ENGINES[0]
    if name not in ENGINES:
        raise SettingsError(f"{ENGINE_ENV}={name}: the engine is one of {', '.join(ENGINES)}")
    return name


def warehouse_path() -> Path:
    return Path(os.environ.get(WAREHOUSE_ENV, VAR_DIR / "warehouse.duckdb")).resolve()


def landing_path() -> Path:
    return Path(os.environ.get(LANDING_ENV, VAR_DIR / "demo_landing")).resolve()


def dashboards_path() -> Path:
    return Path(os.environ.get(DASHBOARDS_ENV, VAR_DIR / "dashboards")).resolve()


def data_docs_path() -> Path:
    return Path(os.environ.get(DATA_DOCS_ENV, VAR_DIR / "data_docs")).resolve()


def postgres_dsn() -> str:
    return os.environ.get(POSTGRES_DSN_ENV, "")


def duckdb_resources(warehouse: Path) -> dict[str, str]:
    """DuckDB's memory limit, threads and spill folder, from the environment or
    the machine: a quarter of the physical memory, every core, and a folder
    beside the warehouse (same disk, so spilling never fills another one)."""
    memory = os.environ.get(MEMORY_LIMIT_ENV)
    if not memory:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        memory = f"{max(1, int(total * DEFAULT_MEMORY_SHARE / 2**30))}GB"
    spill = Path(os.environ.get(SPILL_DIR_ENV) or Path(warehouse).resolve().parent / "duckdb_spill")
    return {
        "memory_limit": memory,
        "threads": os.environ.get(THREADS_ENV) or str(os.cpu_count() or 1),
        "temp_directory": str(spill),
    }


def duckdb_resources_env(warehouse: Path) -> dict[str, str]:
    """The variables the dbt profile reads DuckDB's resources from."""
    resources = duckdb_resources(warehouse)
    return {MEMORY_LIMIT_ENV: resources["memory_limit"], THREADS_ENV: resources["threads"],
            SPILL_DIR_ENV: resources["temp_directory"]}


def export_duckdb_resources(warehouse: Path) -> None:
    """Set the variables the dbt profile reads (dbt runs in a subprocess)."""
    os.environ.update(duckdb_resources_env(warehouse))


# What dbt writes into its project folder, not code: its output and logs,
# installed packages, Python's byte code, and the hidden files (dbt's
# `.user.yml`, written by the first dbt command of a clone, would make a
# clone's second build a full rebuild).
_NOT_DBT_CODE = ("target", "logs", "dbt_packages", "__pycache__")


def dbt_code_version(project_dir: Path = DBT_PROJECT_DIR) -> str:
    """A hash of the dbt project's files: the incremental models recompute
    everything when the code that made them changed (int_build_window)."""
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(project_dir.rglob("*")):
        relative = path.relative_to(project_dir)
        if path.is_file() and not any(part in _NOT_DBT_CODE or part.startswith(".") for part in relative.parts):
            digest.update(str(relative).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def first_drop_date(landing: Path | None = None) -> str:
    """The first daily partition: AFTERSALES_FIRST_DROP_DATE if set, else the
    landing's earliest drop date when it is before DEFAULT_FIRST_DROP_DATE,
    else that default. Never later than the default: a process that loaded
    the definitions for one landing can then still run another (the tests
    run several landings in one process), and a later start would only
    drop empty partitions."""
    if os.environ.get(FIRST_DATE_ENV):
        return os.environ[FIRST_DATE_ENV]
    from sources.landing import earliest_drop_date

    earliest = earliest_drop_date(landing or landing_path())
    return min(earliest.isoformat(), DEFAULT_FIRST_DROP_DATE) if earliest else DEFAULT_FIRST_DROP_DATE


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
