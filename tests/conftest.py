"""Fixtures shared by the test modules."""

from __future__ import annotations

import subprocess
import sys

import pytest

from sources.demo import generate_landing

E2E_STORES = 3


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """`aftersales run` twice over a generated 3-store, 2-year landing, through the
    real CLI: (root, landing, first run, second run, kpi rows after the first run).
    One build shared by every module that checks the marts end to end."""
    import duckdb

    root = tmp_path_factory.mktemp("e2e")
    landing = root / "landing"
    generate_landing(landing, seed=11, stores=E2E_STORES, years=2, vehicles_per_store=60)
    args = [
        sys.executable, "-m", "orchestration.cli", "run",
        "--landing", str(landing),
        "--warehouse", str(root / "warehouse.duckdb"),
        "--dashboards", str(root / "dashboards"),
        "--data-docs", str(root / "data_docs"),
    ]
    first = subprocess.run(args, capture_output=True, text=True)
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        kpis_after_first = con.execute("select * from marts.kpi_store_month order by store_code, month_end").fetchall()
    second = subprocess.run(args, capture_output=True, text=True)
    return root, landing, first, second, kpis_after_first
