"""dbt Python models on a Spark session in this process.

dbt-spark submits Python models to Databricks only; with `method: session`
it has no way to run them. This helper runs the compiled model -- the
model's code and dbt-spark's own wrapper, which writes the returned frame as
a table -- in the session dbt's SQL runs in (SparkSession.getOrCreate()
returns that one). install() makes it the adapter's default submission
method; orchestration/spark/dbt_runner.py calls it before dbt runs.
"""

from __future__ import annotations

from typing import Any


class SessionPythonJobHelper:
    """A PythonJobHelper (dbt.adapters.base.impl) for the local session."""

    def __init__(self, parsed_model: dict, credentials: Any) -> None:
        self.model_name = parsed_model.get("alias") or parsed_model.get("name")

    def submit(self, compiled_code: str) -> None:
        from pyspark.sql import SparkSession

        namespace = {"spark": SparkSession.builder.getOrCreate(), "__name__": f"dbt_model_{self.model_name}"}
        exec(compile(compiled_code, f"<dbt python model {self.model_name}>", "exec"), namespace)


def install() -> None:
    from dbt.adapters.spark.impl import SparkAdapter

    helpers = dict(SparkAdapter.python_submission_helpers.fget(None))  # the adapter's own, by class
    helpers["session"] = SessionPythonJobHelper
    SparkAdapter.python_submission_helpers = property(lambda self: helpers)
    SparkAdapter.default_python_submission_method = property(lambda self: "session")
