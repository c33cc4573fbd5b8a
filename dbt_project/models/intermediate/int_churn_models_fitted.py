"""One row per churn risk model the scored months need (SPEC section 8a):
keyed by the last month end it was fitted through, with the fingerprint of
its training rows, the fitted model and the month ends it scores. A stored
model whose training rows did not change is kept, so a daily run refits
nothing until a new month's six-month outcome completes (churn_score/fitting.py)."""

import duckdb


def model(dbt, session):
    dbt.config(materialized="table")
    from churn_score.scoring import fitted_models

    featured = dbt.ref("int_customer_months_featured")
    try:
        previous = session.sql(f"select * from {dbt.this}").df()
    except duckdb.CatalogException:
        previous = None
    return fitted_models(featured, previous)
