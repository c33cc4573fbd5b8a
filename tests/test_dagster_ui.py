"""`make dev` from a clean shell: the real `dagster dev`, started with a PATH
that does not hold the virtualenv, serves a code location that loads with
everything orchestration.definitions declares."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# `dagster dev` served its UI in about 25 s on a 2-core machine (code server included).
STARTUP_TIMEOUT_S = 180

LOCATION_QUERY = """
{
  workspaceOrError {
    __typename
    ... on PythonError { message }
    ... on Workspace {
      locationEntries {
        name
        loadStatus
        locationOrLoadError {
          __typename
          ... on PythonError { message }
          ... on RepositoryLocation {
            repositories {
              jobs { name }
              schedules { name }
              sensors { name }
              assetNodes {
                assetKey { path }
                assetChecksOrError { __typename ... on AssetChecks { checks { name } } }
              }
            }
          }
        }
      }
    }
  }
}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)


def _path_without_venv() -> str:
    """The PATH of a shell that never activated the virtualenv."""
    venv_bin = Path(sys.executable).parent
    return os.pathsep.join(
        p for p in os.environ.get("PATH", "/usr/bin:/bin").split(os.pathsep)
        if p and Path(p).resolve() != venv_bin.resolve() and not (Path(p) / "dbt").exists()
    )


@pytest.fixture(scope="module")
def served_location(tmp_path_factory):
    """The location entry `dagster dev` reports once it stops loading."""
    home = tmp_path_factory.mktemp("dagster_home")
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    port = _free_port()
    env = {
        **os.environ,
        "PATH": _path_without_venv(),
        "DAGSTER_HOME": str(home),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("VIRTUAL_ENV", None)
    log = (home / "dagster_dev.log").open("w")
    # As the Makefile calls it: the venv's dagster by its path, nothing on PATH.
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("dagster")), "dev", "-m", "orchestration.definitions",
         "-h", "127.0.0.1", "-p", str(port)],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        entry = None
        while time.monotonic() < deadline:
            assert server.poll() is None, (home / "dagster_dev.log").read_text()[-4000:]
            try:
                workspace = _graphql(port, LOCATION_QUERY)["data"]["workspaceOrError"]
            except (urllib.error.URLError, ConnectionError, KeyError, TypeError):
                time.sleep(1)
                continue
            entries = workspace.get("locationEntries") or []
            if entries and entries[0]["loadStatus"] == "LOADED":
                entry = entries[0]
                break
            time.sleep(1)
        assert entry is not None, "dagster dev did not load the code location in time:\n" + (
            home / "dagster_dev.log").read_text()[-4000:]
        yield entry
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()


def test_the_code_location_loads_without_the_venv_on_path(served_location):
    loaded = served_location["locationOrLoadError"]
    assert loaded["__typename"] == "RepositoryLocation", loaded.get("message", loaded)


def test_the_ui_shows_every_asset_check_schedule_sensor_and_job(served_location):
    from orchestration.definitions import defs

    (repository,) = served_location["locationOrLoadError"]["repositories"]
    graph = defs.resolve_asset_graph()
    served_assets = {tuple(node["assetKey"]["path"]) for node in repository["assetNodes"]}
    assert served_assets == {tuple(key.path) for key in graph.get_all_asset_keys()}
    served_checks = {
        (tuple(node["assetKey"]["path"]), check["name"])
        for node in repository["assetNodes"]
        for check in node["assetChecksOrError"].get("checks", [])
    }
    assert served_checks == {(tuple(key.asset_key.path), key.name) for key in graph.asset_check_keys}
    assert {s["name"] for s in repository["schedules"]} == {s.name for s in defs.schedules}
    assert {s["name"] for s in repository["sensors"]} == {s.name for s in defs.sensors or []}
    # Dagster adds hidden jobs of its own (named __ASSET_JOB...).
    served_jobs = {j["name"] for j in repository["jobs"] if not j["name"].startswith("__")}
    assert served_jobs == {job.name for job in defs.jobs}
