"""One row per scored store x VIN x month end: p_return from the model of
its month (int_churn_models_fitted) and the three driver groups that move
it most from a typical customer's, in words (churn_score/scoring.py).

Incremental (docs/decisions.md, "Incremental builds"): a build scores the
customer-months of int_churn_scores_due and replaces the part
in_rescored_scores() names: those, and every rebuilt feature month (which
holds the rows of a vehicle that no longer has them)."""


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="replace_where",
               rebuilt_part="in_rescored_scores")
    from churn_score.scoring import scored_months

    featured = dbt.ref("int_customer_months_featured")
    due = dbt.ref("int_churn_scores_due")
    models = dbt.ref("int_churn_models_fitted").df()
    return scored_months(session, featured, due, models)
