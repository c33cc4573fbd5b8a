"""One row per scored store x VIN x month end: p_return from the model of
its month (int_churn_models_fitted) and the three driver groups that move
it most from a typical customer's, in words (churn_score/scoring.py).

Incremental (docs/decisions.md, "Incremental builds"): a build scores the
customer-months of int_churn_scores_due and replaces the part
in_rescored_scores() names: those, and every rebuilt feature month (which
holds the rows of a vehicle that no longer has them). On Spark the same code
runs on the driver (churn_score/engine.py)."""


def model(dbt, session):
    dbt.config(materialized="incremental", incremental_strategy="replace_where",
               rebuilt_part="in_rescored_scores", written_rows="int_churn_scores_predicted_written")
    from churn_score.engine import LocalRelations
    from churn_score.scoring import scored_months

    local = LocalRelations(session)
    featured = local.relation(dbt.ref("int_customer_months_featured"))
    due = local.relation(dbt.ref("int_churn_scores_due"))
    models = local.relation(dbt.ref("int_churn_models_fitted")).df()
    return local.result(scored_months(local.con, featured, due, models))
