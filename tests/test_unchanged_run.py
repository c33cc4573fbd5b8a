"""A run with nothing new is skipped (orchestration/unchanged_run.py), and
only then: a changed landing file, a load or build since, other settings or
code, a server that does not hold the build, a missing page, each makes the
run do the whole job. Read on copies of the shared demo build, whose second
run was skipped (tests/test_end_to_end.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from orchestration import settings, unchanged_run
from orchestration.publish import published_build, working_copy_path
from sources.landing import discover


@pytest.fixture()
def copy(demo_build, tmp_path):
    """The demo build's warehouse, working copy and landing, copied; the
    pages stay where the runs wrote them (their folders are inputs)."""
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_build.warehouse, warehouse)
    shutil.copyfile(working_copy_path(demo_build.warehouse), working_copy_path(warehouse))
    landing = shutil.copytree(demo_build.landing, tmp_path / "landing")
    # A copy has new modification times; same bytes, so each file is still the version loaded (by hash).
    return warehouse, landing


def _inputs(demo_build, **changes) -> str:
    given = dict(pseudonym_key=settings.DEMO_PSEUDONYM_KEY, dashboards_dir=(demo_build.root / "dashboards").resolve(),
                 data_docs_dir=(demo_build.root / "data_docs").resolve(), postgres_server="", engine="duckdb")
    return unchanged_run.run_inputs(**{**given, **changes})


def _unchanged(demo_build, warehouse: Path, landing: Path, inputs: str, dsn: str = "") -> str | None:
    return unchanged_run.unchanged_build(discover(landing), working_copy_path(warehouse), warehouse, inputs, dsn,
                                         demo_build.root / "dashboards" / "index.html",
                                         demo_build.root / "data_docs" / "index.html")


def test_the_same_landing_code_and_settings_skip_the_run(demo_build, copy):
    warehouse, landing = copy
    assert _unchanged(demo_build, warehouse, landing, _inputs(demo_build)) == published_build(warehouse) is not None


def test_a_changed_landing_file_does_not(demo_build, copy):
    warehouse, landing = copy
    orders = sorted(landing.glob("dms/*/*/repair_orders.csv"))[-1]
    orders.write_bytes(orders.read_bytes() + orders.read_bytes().splitlines(keepends=True)[-1])
    assert _unchanged(demo_build, warehouse, landing, _inputs(demo_build)) is None


def test_a_new_drop_does_not(demo_build, copy):
    warehouse, landing = copy
    last = sorted(landing.glob("dms/*/*"))[-1]
    shutil.copytree(last, last.with_name("2099-01-01"))
    assert _unchanged(demo_build, warehouse, landing, _inputs(demo_build)) is None


def test_other_settings_or_code_do_not(demo_build, copy):
    warehouse, landing = copy
    for changed in (dict(pseudonym_key="another key"), dict(dashboards_dir=Path("/elsewhere")),
                    dict(postgres_server="db:5432/warehouse"), dict(engine="spark")):
        assert _unchanged(demo_build, warehouse, landing, _inputs(demo_build, **changed)) is None, changed
    code_changed = json.loads(_inputs(demo_build)) | {"code": "0" * 64}
    assert _unchanged(demo_build, warehouse, landing, json.dumps(code_changed, sort_keys=True)) is None


def test_a_load_attempt_since_does_not(demo_build, copy):
    # A run that loaded (or tried to) and then failed leaves the files looking loaded.
    warehouse, landing = copy
    with duckdb.connect(str(working_copy_path(warehouse))) as con:
        con.execute("insert into raw.load_log select * from raw.load_log limit 1")
    assert _unchanged(demo_build, warehouse, landing, _inputs(demo_build)) is None


def test_a_run_that_did_not_complete_leaves_no_record(demo_build, copy):
    warehouse, landing = copy
    unchanged_run.forget(working_copy_path(warehouse))  # what every run that is not skipped does first
    assert _unchanged(demo_build, warehouse, landing, _inputs(demo_build)) is None


def test_a_server_that_does_not_hold_the_build_does_not(demo_build, copy, postgres_dsn):
    # The build was never sent to this (empty) server; an unreachable one cannot be asked.
    warehouse, landing = copy
    inputs = _inputs(demo_build, postgres_server="elsewhere")
    with duckdb.connect(str(working_copy_path(warehouse))) as con:
        con.execute("update job.last_run set inputs = ?", [inputs])
    assert _unchanged(demo_build, warehouse, landing, inputs, dsn=postgres_dsn) is None
    assert _unchanged(demo_build, warehouse, landing, inputs, dsn="postgresql://nobody@127.0.0.1:1/none") is None
    # Once the server holds it, the run may be skipped again.
    from orchestration.postgres.publish import publish_to_postgres

    publish_to_postgres(warehouse, postgres_dsn, working=working_copy_path(warehouse))
    assert _unchanged(demo_build, warehouse, landing, inputs, dsn=postgres_dsn) == published_build(warehouse)
