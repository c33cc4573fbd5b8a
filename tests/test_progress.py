"""`aftersales run` shows its steps as they run on a terminal, and prints
nothing but its summary elsewhere: the session's run of the hand-worked
landing shown on a terminal (conftest), and the demo build's `aftersales
run`, whose stdout is a pipe."""

from __future__ import annotations

import duckdb

from orchestration.resources import warehouse_resource
from sources.contract import DROP_TABLES
from sources.landing import discover

from conftest import HAND_LANDING


def test_a_terminal_sees_every_step_with_its_counts(hand_run_on_a_terminal):
    from orchestration.assets.dbt import warehouse_dbt_models
    from orchestration.assets.raw import raw_landing_drops
    from orchestration.definitions import defs

    warehouse, summary, _, _, screen = hand_run_on_a_terminal
    assert summary.exit_code == 0
    steps = {a.node_def.name for a in [*defs.assets, *defs.asset_checks]}
    for step in steps:
        assert f"done    {step}" in screen, step
    assert f"step {len(steps)}/{len(steps)} " in screen
    assert f"found   new drops dated {summary.range_start} .. {summary.range_end}" in screen
    # the drops' files and rows, as the load log in the working copy counts them
    with duckdb.connect(warehouse_resource(warehouse).path, read_only=True) as con:
        files, rows = con.execute(
            "select count(*), sum(rows_loaded) from raw.load_log where status = 'loaded' and drop_date is not null"
        ).fetchone()
    assert files == len(discover(HAND_LANDING, tables=DROP_TABLES)) and rows > 0
    assert f"done    {raw_landing_drops.op.name}: {files:,} files, {rows:,} rows loaded" in screen
    nodes = len(warehouse_dbt_models.keys)
    assert f"done    {warehouse_dbt_models.op.name}: {nodes}/{nodes} models and seeds built" in screen


def test_elsewhere_only_the_summary_is_printed(demo_build):
    out = demo_build.first_run.stdout
    assert out.startswith("aftersales run: OK in ")
    assert "step " not in out and "done    " not in out and "found   " not in out
    assert out.rstrip().splitlines()[-1].split()[:2] == ["group", "page"]
