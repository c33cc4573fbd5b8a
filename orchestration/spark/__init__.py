"""The warehouse on Apache Spark: the same dbt models, run by dbt-spark in
this process's Spark session (docs/spark.md)."""
