"""One row per scored store x VIN x month end: p_return from the model of
its month (int_churn_models_fitted) and the three driver groups that move
it most from a typical customer's, in words (churn_score/scoring.py)."""


def model(dbt, session):
    dbt.config(materialized="table")
    from churn_score.scoring import scored_months

    featured = dbt.ref("int_customer_months_featured")
    models = dbt.ref("int_churn_models_fitted").df()
    return scored_months(featured, models)
