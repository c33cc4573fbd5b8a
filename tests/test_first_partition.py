"""The first daily partition follows the landing: a landing whose drops start
before 2020 runs with no setting, the variable still overrides."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration import settings
from orchestration.resources import warehouse_resource
from sources.demo import generate_landing
from sources.landing import earliest_drop_date

HAND_LANDING = Path(__file__).resolve().parent / "fixtures" / "hand_landing"


def _first_folder_date(landing: Path) -> str:
    """The earliest <source>/<store>/<YYYY-MM-DD> folder name."""
    return min(p.name for p in landing.glob("*/*/*") if p.is_dir() and p.parts[-3] != "reference")


@pytest.fixture(scope="module")
def landing_2018(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("landing_2018") / "landing"
    generate_landing(root, seed=5, stores=1, years=1, vehicles_per_store=25,
                     end_date=dt.date(2018, 12, 31), daily_days=5)
    return root


def test_the_earliest_drop_is_the_first_date_folder(tmp_path, landing_2018):
    assert earliest_drop_date(HAND_LANDING).isoformat() == _first_folder_date(HAND_LANDING)
    assert earliest_drop_date(landing_2018).isoformat() == _first_folder_date(landing_2018)
    # folders that are not dates, and the reference file, are not drops
    (tmp_path / "dms" / "S9" / "incoming").mkdir(parents=True)
    (tmp_path / "reference").mkdir()
    assert earliest_drop_date(tmp_path) is None


def test_first_partition_rule(monkeypatch, tmp_path, landing_2018):
    monkeypatch.delenv(settings.FIRST_DATE_ENV, raising=False)
    first_2018 = _first_folder_date(landing_2018)
    assert first_2018.startswith("2018-")
    assert settings.first_drop_date(landing_2018) == first_2018
    # a landing starting after the default keeps the default; so does an empty one
    assert _first_folder_date(HAND_LANDING) > settings.DEFAULT_FIRST_DROP_DATE
    assert settings.first_drop_date(HAND_LANDING) == settings.DEFAULT_FIRST_DROP_DATE
    assert settings.first_drop_date(tmp_path) == settings.DEFAULT_FIRST_DROP_DATE
    monkeypatch.setenv(settings.FIRST_DATE_ENV, "2017-03-01")
    assert settings.first_drop_date(landing_2018) == "2017-03-01"


def test_aftersales_run_loads_a_landing_that_starts_in_2018(monkeypatch, tmp_path, landing_2018):
    monkeypatch.delenv(settings.FIRST_DATE_ENV, raising=False)
    warehouse = tmp_path / "warehouse.duckdb"
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", "--landing", str(landing_2018),
         "--warehouse", str(warehouse), "--dashboards", str(tmp_path / "dash"),
         "--data-docs", str(tmp_path / "docs")],
        capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    first, last = _first_folder_date(landing_2018), max(
        p.name for p in landing_2018.glob("dms/*/*") if p.is_dir())
    assert f"run covers drop dates {first} .. {last}" in proc.stdout
    working_copy = warehouse_resource(warehouse).path
    with duckdb.connect(working_copy, read_only=True) as con:
        (loaded_first,) = con.execute(
            "select count(*) from raw.load_log where status = 'loaded' and source_file like ?", [f"%/{first}/%"]
        ).fetchone()
    assert loaded_first > 0
