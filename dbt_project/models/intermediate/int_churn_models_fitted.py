"""One row per churn risk model the scored months need (SPEC section 8a):
keyed by the last month end it was fitted through, with the fingerprint of
its training rows, the fitted model and the month ends it scores. A stored
model whose training rows did not change is kept, so a daily run refits
nothing until a new month's six-month outcome completes (churn_score/fitting.py).
On Spark the same code runs on the driver (churn_score/engine.py)."""


def model(dbt, session):
    dbt.config(materialized="table")
    from churn_score.engine import LocalRelations
    from churn_score.scoring import fitted_models

    local = LocalRelations(session)
    featured = local.relation(dbt.ref("int_customer_months_featured"))
    return local.result(fitted_models(featured, local.stored(dbt.this)))
