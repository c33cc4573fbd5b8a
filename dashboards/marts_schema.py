"""The mart tables the dashboards read (SPEC section 10): columns and DuckDB
types, read from the dbt contracts of the marts
(``dbt_project/models/marts/_marts__*.yml``, every column with its
``data_type``), which are the single source of truth.

dbt builds the real tables; this module only serves the dashboards' checks
(a clear error when the marts are missing), the tests and the synthetic
sample warehouse (``dashboards.sample_marts``) used to preview the pages.
It reads the YAML from the project checkout, so it needs the repository's
``dbt_project`` folder next to the ``dashboards`` package.
"""

from __future__ import annotations

from pathlib import Path

import yaml

MARTS_DIR = Path(__file__).resolve().parent.parent / "dbt_project/models/marts"


def load_mart_columns(marts_dir: Path = MARTS_DIR) -> dict[str, list[tuple[str, str]]]:
    """table -> [(column, TYPE)] in contract order, types upper-cased
    (``decimal(18,2)`` -> ``DECIMAL(18,2)``), over every YAML file of the folder."""
    tables: dict[str, list[tuple[str, str]]] = {}
    for path in sorted(marts_dir.glob("_marts__*.yml")):
        tables.update(_models_of(path))
    return tables


def _models_of(path: Path) -> dict[str, list[tuple[str, str]]]:
    with open(path, encoding="utf-8") as fh:
        spec = yaml.safe_load(fh)
    tables: dict[str, list[tuple[str, str]]] = {}
    for model in spec.get("models") or []:
        columns = []
        for column in model.get("columns") or []:
            data_type = column.get("data_type")
            if not data_type:
                raise ValueError(f"{path}: {model['name']}.{column['name']} has no data_type")
            columns.append((column["name"], " ".join(str(data_type).split()).upper()))
        tables[model["name"]] = columns
    return tables


MART_COLUMNS: dict[str, list[tuple[str, str]]] = load_mart_columns()


def create_table_sql(table: str) -> str:
    cols = ",\n    ".join(f"{name} {type_}" for name, type_ in MART_COLUMNS[table])
    return f"create table marts.{table} (\n    {cols}\n)"


def create_mart_tables(con) -> None:
    """Create empty marts.* tables with the published columns (tests, samples)."""
    con.execute("create schema if not exists marts")
    for table in MART_COLUMNS:
        con.execute(create_table_sql(table))
