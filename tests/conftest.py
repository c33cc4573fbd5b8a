"""Shared fixtures."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from sources.demo import generate_landing


@dataclass(frozen=True)
class DemoBuild:
    landing: Path
    warehouse: Path


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory) -> DemoBuild:
    """A small generated demo landing and the warehouse `aftersales run`
    builds from it through the real CLI, for tests that read a finished
    warehouse and must not write it."""
    root = tmp_path_factory.mktemp("demo_build")
    landing, warehouse = root / "landing", root / "warehouse.duckdb"
    generate_landing(landing, seed=11, stores=3, years=2, vehicles_per_store=60)
    proc = subprocess.run(
        [
            sys.executable, "-m", "orchestration.cli", "run",
            "--landing", str(landing),
            "--warehouse", str(warehouse),
            "--dashboards", str(root / "dashboards"),
            "--data-docs", str(root / "data_docs"),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return DemoBuild(landing=landing, warehouse=warehouse)
