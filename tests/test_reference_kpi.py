"""benchmarks/reference_kpi_store_month.sql, the bench's reference, is an
independent computation of marts.kpi_store_month: run on the demo landing, it
equals the mart cell for cell (counts exactly, money within a cent)."""

from __future__ import annotations

import shutil

import duckdb

from orchestration.bench_reference import COMPARED_COLUMNS, disagreements, measure_reference


def test_reference_script_equals_the_mart_cell_for_cell(demo_build, tmp_path):
    measured = measure_reference(demo_build.landing, tmp_path, "reference")
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as con:
        mart_rows, churned, visits = con.execute(
            "select count(*), sum(churned), sum(visits) from marts.kpi_store_month").fetchone()
    with duckdb.connect() as con:
        ref_rows, ref_stores = con.execute(
            f"select count(*), count(distinct store_code) from read_parquet('{measured['result']}')").fetchone()
    assert ref_rows == mart_rows > 0 and ref_stores == 3 and churned > 0 and visits > 0
    found = disagreements(measured["result"], demo_build.warehouse)
    assert found["store_months"] == mart_rows
    assert found["disagreeing_cells"] == 0, found["by_column"]
    assert found["cells"] == mart_rows * len(COMPARED_COLUMNS)


def test_a_changed_cell_is_counted(demo_build, tmp_path):
    """The comparison notices one cent on one store-month, and nothing less."""
    measured = measure_reference(demo_build.landing, tmp_path, "reference")
    changed = tmp_path / "changed.duckdb"
    shutil.copyfile(demo_build.warehouse, changed)
    with duckdb.connect(str(changed)) as con:
        store, last_month, first_month = con.execute(
            "select min(store_code), max(month_end), min(month_end) from marts.kpi_store_month").fetchone()
        con.execute("update marts.kpi_store_month set revenue = revenue + 0.02, visits = visits + 1 "
                    "where store_code = ? and month_end = ?", [store, last_month])
        con.execute("update marts.kpi_store_month set labor_amount = labor_amount + 0.01 where month_end = ?",
                    [first_month])
    found = disagreements(measured["result"], changed)
    assert found["by_column"] == {"revenue": 1, "visits": 1}
