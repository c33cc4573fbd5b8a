"""The code version int_build_window compares: a change to the dbt project's
code rebuilds everything, what dbt and Python write beside it does not; the
job builds changed code with dbt's --full-refresh."""

import shutil

import duckdb

from orchestration import settings
from orchestration.build_code import built_by_other_code


def test_the_code_version_follows_the_code_and_nothing_dbt_writes(tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(settings.DBT_PROJECT_DIR, project,
                    ignore=shutil.ignore_patterns("target", "logs", ".user.yml", "__pycache__"))
    before = settings.dbt_code_version(project)
    assert before == settings.dbt_code_version(project)

    # dbt's anonymous id (its first command writes it), its output and logs,
    # and Python's byte code are not code.
    (project / ".user.yml").write_text("id: 5f0c6a52-0d2b-4b8e-9a55-3d8f1c2e7b10\n")
    for folder in ("target", "logs", "models/__pycache__"):
        (project / folder).mkdir(parents=True, exist_ok=True)
        (project / folder / "written.txt").write_text("not code\n")
    assert settings.dbt_code_version(project) == before

    # A model's text is.
    model = project / "models" / "marts" / "kpi_store_month.sql"
    model.write_text(model.read_text() + "\n-- a changed comment\n")
    assert settings.dbt_code_version(project) != before


def test_a_working_copy_built_by_other_code_is_told_apart(tmp_path):
    """What the job reads to add --full-refresh: the code version the last
    build recorded in int_build_window, against this run's."""
    working = tmp_path / "warehouse.work.duckdb"
    assert not built_by_other_code(working, "abc")  # no file: the first build creates every model anyway
    with duckdb.connect(str(working)) as con:
        con.execute("create schema intermediate")
    assert not built_by_other_code(working, "abc")  # no build yet
    with duckdb.connect(str(working)) as con:
        # A build by a version that did not record its code.
        con.execute("create table intermediate.int_build_window as select 'b1' as build_id")
    assert built_by_other_code(working, "abc")
    with duckdb.connect(str(working)) as con:
        con.execute("create or replace table intermediate.int_build_window as "
                    "select 'b2' as build_id, 'abc' as code_version")
    assert not built_by_other_code(working, "abc")
    assert built_by_other_code(working, "abd")
