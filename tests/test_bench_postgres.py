"""`aftersales bench --postgres`: a bench run publishes to the server through
the pipeline's own step, and what the bench reports for that step is what
the server received and holds. Figures of speed are printed by the bench,
never asserted."""

from __future__ import annotations

import shutil

import duckdb
import psycopg
from postgres_compare import duckdb_relations, duckdb_views

from orchestration.bench import _measure
from orchestration.bench_postgres import held_vs_published
from orchestration.bench_report import format_report


def test_a_bench_run_reports_the_rows_the_server_received_and_holds(demo_build, postgres_dsn, tmp_path):
    # The demo build's warehouse, copied: a re-run with nothing new to load
    # (the pipeline run the other tests share, not another full build), whose
    # first publish to this test's empty database is a whole one.
    root = shutil.copytree(demo_build.root, tmp_path / "build")
    warehouse = root / "warehouse.duckdb"

    run = _measure(root / "landing", warehouse, tmp_path, postgres_dsn, "duckdb")

    assert run["exit_code"] == 0, run["errors"]
    # Counted apart: the published file's rows, relation by relation, and the server's.
    # The tables' rows: the views' (the customer-month marts) are their tables'.
    relations = duckdb_relations(warehouse)
    tables = [relation for relation in relations if relation not in duckdb_views(warehouse)]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        in_file = sum(con.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in tables)
    with psycopg.connect(postgres_dsn) as conn:
        on_server = sum(conn.execute(f'select count(*) from "{s}"."{t}"').fetchone()[0] for s, t in tables)
    assert on_server == in_file > 0
    # The first publish to an empty server is a whole one and sends every row.
    assert (run["postgres"]["updated_in_place"], run["postgres"]["rows_copied"], run["postgres"]["relations"]) == (
        False, in_file, len(relations))
    assert "warehouse__postgres" in run["steps"]
    held = held_vs_published(postgres_dsn, warehouse)
    assert held == {"relations": len(tables), "rows_published": in_file, "rows_held": on_server, "differing": []}

    # The readable table's postgres step line gives the same rows.
    run["postgres_held"] = held
    table = format_report({
        "parameters": {"stores": 3, "years": 2, "vehicles_per_store": 60, "seed": 12},
        "machine": {"cores": 2, "memory_gib": 8},
        "postgres": "a throwaway local server, PostgreSQL 15",
        "landing": {"files": 1, "mib": 1, "first_drop": "-", "history_start": "-", "last_drop": "-", "rows": {}},
        "cases": {"held_back": "-", "corrected": "-"},
        "runs": {"full build": run}, "reference": {}, "reference_vs_mart": {}, "full_build_over_reference": 1.0,
    })
    step_line = next(line for line in table.splitlines() if "warehouse__postgres" in line)
    assert f"{in_file:,} rows sent" in step_line and "whole publish" in step_line
    assert f"the server holds the published file's {in_file:,} rows" in table
