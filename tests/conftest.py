"""Fixtures shared by the test modules."""

from __future__ import annotations

import hashlib
import os
import pickle
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import pytest
from filelock import FileLock

from sources.demo import generate_landing

E2E_STORES = 3
HAND_LANDING = Path(__file__).resolve().parent / "fixtures" / "hand_landing"
# The hand landing is not a demo landing: its runs need a pseudonym key of their own.
HAND_KEY = "hand-landing-test-key"


T = TypeVar("T")

# The modules that take minutes on two workers (a fresh-clone CI, 2026-12-07:
# Spark 915 s, the incremental cases 650 s, the PostgreSQL publish 426 s, the
# bench's replay 287 s, ...), longest first. xdist hands whole modules to the
# workers in collection order (`--dist loadfile --no-loadscope-reorder`,
# pyproject.toml): these start first and the short ones fill in around them.
# Ordered by their count of tests instead, xdist started the longest one after
# 22 minutes, and one worker then ran alone for 5 minutes; in this order the
# two workers ended within 2 s of each other.
SLOWEST_MODULES = (
    "test_spark_equality.py", "test_incremental_builds.py", "test_postgres_publish.py", "test_bench_replay.py",
    "test_publish.py", "test_churn_score.py", "test_bad_input_pipeline.py", "test_planted_effect.py",
    "test_bench_postgres.py", "test_crm_source.py", "test_expectations.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {name: place for place, name in enumerate(SLOWEST_MODULES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the others keep their order


@contextmanager
def environment_kept() -> Iterator[None]:
    """The process environment as it was, whatever runs inside sets. An
    in-process pipeline run exports its engine, paths and key for dbt
    (orchestration/pipeline.py), and pytest's MonkeyPatch does not unset again
    a variable it was asked to delete that was not set."""
    saved = dict(os.environ)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module", autouse=True)
def module_environment_kept():
    """Each module leaves the next one on its worker the environment it found:
    a module's Spark run once left the engine set to Spark for every module
    after it."""
    with environment_kept():
        yield


def built_once(tmp_path_factory, name: str, build: Callable[[Path], T]) -> T:
    """`build(folder)` run once for every xdist worker of the session: the
    first worker to ask builds into a folder they share and leaves its result
    pickled there; the others wait for it and read it. Each of these builds
    is a whole pipeline run, and every worker used to run its own. What they
    build is read, never written: a test that breaks it breaks a copy."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):  # an xdist worker's: the workers' common parent
        shared = shared.parent
    folder, result = shared / name, shared / f"{name}.pickle"
    with FileLock(str(shared / f"{name}.lock")):
        if result.is_file():
            return pickle.loads(result.read_bytes())
        shutil.rmtree(folder, ignore_errors=True)  # a build that failed part-way
        folder.mkdir()
        # Every worker goes on with the environment it had, whichever built.
        with environment_kept():
            built = build(folder)
        result.write_bytes(pickle.dumps(built))
        return built


@dataclass(frozen=True)
class DemoBuild:
    root: Path
    landing: Path
    warehouse: Path
    first_run: subprocess.CompletedProcess
    second_run: subprocess.CompletedProcess
    kpis_after_first_run: list


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory) -> DemoBuild:
    """A generated 3-store, 2-year demo landing and the warehouse `aftersales
    run` builds from it through the real CLI, run twice (the second run finds
    nothing new). One build shared by every module that checks the finished
    warehouse; tests read it and do not write it (copy it to break it)."""
    return built_once(tmp_path_factory, "demo_build", _demo_build)


def _demo_build(root: Path) -> DemoBuild:
    import duckdb

    landing, warehouse = root / "landing", root / "warehouse.duckdb"
    # Seed 12: at the data date this small demo has churned, at-risk and active
    # customers and two vehicles churned at one store by moving to a sibling
    # (tests/test_churn_analytics.py needs group transfers to count).
    generate_landing(landing, seed=12, stores=E2E_STORES, years=2, vehicles_per_store=60)
    args = [
        sys.executable, "-m", "orchestration.cli", "run",
        "--landing", str(landing),
        "--warehouse", str(warehouse),
        "--dashboards", str(root / "dashboards"),
        "--data-docs", str(root / "data_docs"),
    ]
    first = subprocess.run(args, capture_output=True, text=True)
    assert first.returncode == 0, first.stdout[-4000:] + first.stderr[-4000:]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        kpis = con.execute("select * from marts.kpi_store_month order by store_code, month_end").fetchall()
    second = subprocess.run(args, capture_output=True, text=True)
    return DemoBuild(root, landing, warehouse, first, second, kpis)


@dataclass(frozen=True)
class CampaignRun:
    model: object  # the landing read in plain Python (tests/independent.py's Landing)
    campaigns: list  # tests/campaign_landing.py's Campaign, the four of the first store
    landing: Path
    warehouse: Path
    dashboards: Path


@pytest.fixture(scope="session")
def campaign_run(tmp_path_factory) -> CampaignRun:
    """The campaign landing (tests/campaign_landing.py) through one real run,
    shared by the campaign-effect tests and the campaigns pages' tests;
    they read it and do not write it."""
    return built_once(tmp_path_factory, "campaign_run", _campaign_run)


def _campaign_run(root: Path) -> CampaignRun:
    from campaign_landing import build_campaign_landing

    from orchestration.pipeline import run_pipeline

    landing = root / "landing"
    model, campaigns = build_campaign_landing(landing)
    summary = run_pipeline(landing=landing, warehouse=root / "wh.duckdb", dashboards_dir=root / "dash",
                           data_docs_dir=root / "docs")
    assert summary.exit_code == 0 and summary.rows_quarantined == 0, summary
    return CampaignRun(model, campaigns, landing, root / "wh.duckdb", root / "dash")


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="session")
def hand_run_on_a_terminal(tmp_path_factory):
    """The pipeline over tests/fixtures/hand_landing (whose README works every
    figure out by hand), in-process, its progress shown on a terminal (rich,
    forced, into a buffer): (warehouse, run summary, the landing's file
    hashes before and after the run, what the terminal showed)."""
    return built_once(tmp_path_factory, "hand_worked", _hand_run_on_a_terminal)


def _hand_run_on_a_terminal(tmp: Path) -> tuple:
    import io

    from rich.console import Console

    from orchestration.pipeline import run_pipeline
    from orchestration.progress import LiveProgress

    before = _hashes(HAND_LANDING)
    screen = io.StringIO()
    terminal = Console(file=screen, force_terminal=True, width=200, color_system=None)
    with pytest.MonkeyPatch.context() as env, LiveProgress(console=terminal) as progress:
        env.setenv("AFTERSALES_PSEUDONYM_KEY", HAND_KEY)
        summary = run_pipeline(
            landing=HAND_LANDING, warehouse=tmp / "wh.duckdb", dashboards_dir=tmp / "dash", data_docs_dir=tmp / "docs",
            progress=progress,
        )
    return tmp / "wh.duckdb", summary, before, _hashes(HAND_LANDING), screen.getvalue()


@pytest.fixture(scope="session")
def hand_run(hand_run_on_a_terminal):
    """(warehouse, run summary, the landing's file hashes before and after the run)"""
    return hand_run_on_a_terminal[:4]


@dataclass(frozen=True)
class ScoreBuild:
    landing: Path
    warehouse: Path
    working_copy: Path
    dashboards: Path


@pytest.fixture(scope="session")
def score_build(tmp_path_factory) -> ScoreBuild:
    """One run of the churn score landing (tests/score_landing.py), which the
    score's tests and its pages' tests read."""
    return built_once(tmp_path_factory, "score_build", _score_build)


def _score_build(root: Path) -> ScoreBuild:
    from score_landing import generate_score_landing

    from orchestration.pipeline import run_pipeline

    generate_score_landing(root / "landing")
    summary = run_pipeline(landing=root / "landing", warehouse=root / "warehouse.duckdb",
                           dashboards_dir=root / "dashboards", data_docs_dir=root / "data_docs")
    assert summary.exit_code == 0, summary.errors
    return ScoreBuild(root / "landing", summary.warehouse, summary.working_copy, root / "dashboards")


@pytest.fixture(scope="session")
def postgres_cluster():
    """A throwaway PostgreSQL server on a free local port (orchestration/postgres/cluster.py), stopped after."""
    from orchestration.postgres.cluster import PostgresCluster

    cluster = PostgresCluster().start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_dsn(postgres_cluster, request) -> str:
    """A fresh database of the throwaway server for one test (roles are the server's, shared)."""
    import psycopg

    name = "t_" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:16]
    with psycopg.connect(postgres_cluster.dsn(), autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}"')
        conn.execute(f'create database "{name}"')
    return postgres_cluster.dsn(dbname=name)
