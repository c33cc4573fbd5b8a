"""One row per scored store x VIN x month end: p_return from the model of
its month (int_churn_models_fitted) and the three driver groups that move
it most from a typical customer's, in words (churn_score/scoring.py). A
stored row whose features and model are unchanged is kept, not scored again."""

import duckdb


def model(dbt, session):
    dbt.config(materialized="table")
    from churn_score.scoring import SCORE_INPUTS, scored_months

    featured = dbt.ref("int_customer_months_featured")
    models = dbt.ref("int_churn_models_fitted").df()
    previous = str(dbt.this)
    try:
        columns = session.sql(f"select * from {previous} limit 0").columns
    except duckdb.CatalogException:
        columns = []
    if not set(SCORE_INPUTS) <= set(columns):
        previous = None  # none stored yet, or stored without what it was scored from
    return scored_months(session, featured, models, previous)
