"""`aftersales-dbt-spark`: the dbt command line, with the Python models able
to run in dbt's own Spark session (python_models.py). The Dagster dbt step
of a run on Spark runs this executable where a run on DuckDB runs `dbt`, so
dagster-dbt streams its events the same way (orchestration/spark/step.py)."""

from __future__ import annotations


def main() -> None:
    from dbt.cli.main import cli

    from orchestration.spark import python_models

    python_models.install()
    cli()


if __name__ == "__main__":
    main()
