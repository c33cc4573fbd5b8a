"""The dbt project on its own: it parses, and its unit tests (the churn
boundaries, thresholds, cohort rule, revenue exclusions, money rounding) pass
against a real DuckDB. The daily job leaves unit tests out of its build."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb

from orchestration.settings import DBT_PROJECT_DIR, WAREHOUSE_ENV
from sources.loader import ensure_raw_schema

DBT = str(Path(sys.executable).with_name("dbt"))


def test_unit_tests_pass_on_an_empty_warehouse(tmp_path):
    warehouse = tmp_path / "wh.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        ensure_raw_schema(con)  # unit tests read their inputs' column types from the relations
    env = {**os.environ, WAREHOUSE_ENV: str(warehouse)}
    # --empty builds every model with no rows; unit tests use their own given rows.
    proc = subprocess.run(
        [DBT, "build", "--empty", "--profiles-dir", ".", "--target-path", str(tmp_path / "target")],
        cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout[-6000:]
    unit_lines = [line for line in proc.stdout.splitlines() if "::" in line and ("PASS" in line or "FAIL" in line)]
    passed = [line for line in unit_lines if " PASS " in line]
    assert len(passed) == len(unit_lines) >= 9, "\n".join(unit_lines)


def test_a_build_is_recorded_complete_only_after_every_incremental_model():
    # int_builds_completed runs after every incremental model (its depends_on
    # lines): a build that failed part-way leaves no record, and the next one
    # rebuilds everything instead of building on a model left behind.
    import json

    from orchestration.dbt_project import dbt_project

    nodes = json.loads(Path(dbt_project.manifest_path).read_text(encoding="utf-8"))["nodes"]
    by_name = {node["name"]: node for node in nodes.values() if node["resource_type"] == "model"}
    incremental = {name for name, node in by_name.items() if node["config"]["materialized"] == "incremental"}
    waits_for = {nodes[uid]["name"] for uid in by_name["int_builds_completed"]["depends_on"]["nodes"]
                 if uid in nodes}
    assert len(incremental) > 15
    assert incremental - {"int_build_window", "int_builds_completed"} <= waits_for


def test_the_unique_combination_test_finds_every_repeated_key_and_only_those(tmp_path):
    # The generic test the marts' keys are checked with
    # (macros/test_unique_combination.sql). Worked by hand: (1, x) twice and
    # (NULL, z) twice are the repeated keys; (1, y), (2, NULL) and (NULL, NULL)
    # are each once.
    import json

    warehouse = tmp_path / "wh.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create table keyed (a integer, b varchar)")
        con.execute("insert into keyed values (1, 'x'), (1, 'x'), (1, 'y'), (null, 'z'), (null, 'z'), (2, null), (null, null)")
    env = {**os.environ, WAREHOUSE_ENV: str(warehouse)}
    inline = "{{ test_unique_combination(model=target.database ~ '.main.keyed', columns=['a', 'b']) }} order by a nulls last"
    proc = subprocess.run(
        [DBT, "show", "--inline", inline, "--output", "json", "--log-format", "json", "--profiles-dir", ".",
         "--target-path", str(tmp_path / "target")],
        cwd=DBT_PROJECT_DIR, env=env, capture_output=True, text=True,
    )
    assert proc.returncode == 0, proc.stdout[-4000:]
    shown = [json.loads(json.loads(line)["data"]["preview"]) for line in proc.stdout.splitlines()
             if '"preview"' in line]
    assert shown == [[{"a": 1, "b": "x", "rows_with_these_values": 2},
                      {"a": None, "b": "z", "rows_with_these_values": 2}]], proc.stdout[-4000:]
