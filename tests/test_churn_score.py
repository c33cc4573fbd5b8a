"""The churn risk score (SPEC section 8a) on a small generated landing run
through the real pipeline: scores do not see data after their month end, the
backtest's figures are what scikit-learn computes from the published
scores, and on this landing the score beats the fixed rule and recency with
a calibration error per decile within a stated bound.

Two runs: the landing, and a copy of it without the drops after CUT_DATE
(the demo writes a daily drop for every day after its history extract, so
the cut removes exactly the data after that date)."""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd
import pytest
from landing_edits import copy_landing_without
from score_landing import CUT_DATE, LAST_COMPARED_MONTH
from sklearn.metrics import brier_score_loss, roc_auc_score

from churn_score.fitting import FittedModel
from churn_score.scoring import fitted_models, training_rows
from orchestration.pipeline import run_pipeline

# The bound on |mean p_return - observed return rate| per score decile at
# group level, the backtest months pooled (docs/metrics.md).
CALIBRATION_BOUND = 0.08


def _scores(warehouse) -> pd.DataFrame:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute("select * from marts.churn_scores order by store_code, vin, month_end").df()


@pytest.fixture(scope="module")
def builds(tmp_path_factory, score_build):
    """The shared run of the score landing ("full") and a run of a copy of
    it without the drops after CUT_DATE ("cut"): published and working files."""
    root = tmp_path_factory.mktemp("churn_score")
    cut = root / "landing_cut"
    copy_landing_without(score_build.landing, cut, lambda drop: date.fromisoformat(drop.date) > CUT_DATE)
    summary = run_pipeline(landing=cut, warehouse=root / "cut" / "warehouse.duckdb",
                           dashboards_dir=root / "cut" / "dashboards", data_docs_dir=root / "cut" / "data_docs")
    assert summary.exit_code == 0, summary.errors
    return {"full": score_build.warehouse, "full_working": score_build.working_copy,
            "cut": summary.warehouse, "cut_working": summary.working_copy}


def test_scores_of_a_month_do_not_change_without_the_data_after_it(builds):
    columns = ["store_code", "vin", "month_end", "p_return", "expected_value_at_risk", "churn_status",
               "days_since_last_visit", "fitted_through", "reason_1", "reason_1_effect", "reason_2",
               "reason_2_effect", "reason_3", "reason_3_effect"]
    full, cut = _scores(builds["full"]), _scores(builds["cut"])
    assert cut["month_end"].max() == pd.Timestamp("2026-07-31")  # the cut landing ends in July
    assert full["month_end"].max() == pd.Timestamp("2026-11-30")
    compared = pd.Timestamp(LAST_COMPARED_MONTH)
    full = full[pd.to_datetime(full["month_end"]) <= compared][columns].reset_index(drop=True)
    cut = cut[pd.to_datetime(cut["month_end"]) <= compared][columns].reset_index(drop=True)
    assert full["month_end"].nunique() >= 12, full["month_end"].unique()
    pd.testing.assert_frame_equal(full, cut)


def test_backtest_figures_are_scikit_learns(builds):
    scores = _scores(builds["full"])
    scores = scores[scores["label_complete"]]
    with duckdb.connect(str(builds["full"]), read_only=True) as con:
        backtest = con.execute("select * from marts.churn_score_backtest").df()
        stores = con.execute("select store_code, region from marts.dim_stores").df()
    scores = scores.merge(stores, on="store_code")
    assert set(backtest["scope_level"]) == {"store", "region", "group"}
    for row in backtest.itertuples():
        in_scope = scores["month_end"] == row.month_end
        if row.scope_level == "store":
            in_scope &= scores["store_code"] == row.scope_code
        elif row.scope_level == "region":
            in_scope &= scores["region"] == row.scope_code
        month = scores[in_scope]
        returned = month["returned_within_6m"].astype(int)
        rule = (month["churn_status"] == "active").astype(float)
        assert (row.customers, row.returned) == (len(month), returned.sum())
        assert row.score_auc == pytest.approx(roc_auc_score(returned, month["p_return"]), abs=1e-6)
        assert row.score_brier == pytest.approx(brier_score_loss(returned, month["p_return"]), abs=1e-6)
        assert row.fixed_rule_auc == pytest.approx(roc_auc_score(returned, rule), abs=1e-6)
        assert row.fixed_rule_brier == pytest.approx(brier_score_loss(returned, rule), abs=1e-6)
        assert row.recency_auc == pytest.approx(roc_auc_score(returned, -month["days_since_last_visit"]), abs=1e-6)


def test_the_score_beats_the_fixed_rule_and_recency_at_group_level(builds):
    with duckdb.connect(str(builds["full"]), read_only=True) as con:
        group = con.execute("select * from marts.churn_score_backtest where scope_level = 'group'").df()
    assert len(group) >= 12
    assert (group["score_auc"] > group["fixed_rule_auc"]).all(), group
    assert (group["score_auc"] > group["recency_auc"]).all(), group
    assert (group["score_brier"] < group["fixed_rule_brier"]).all(), group
    assert (group["score_brier"] < group["base_rate_brier"]).all(), group


def test_calibration_error_per_decile_is_within_the_bound(builds):
    with duckdb.connect(str(builds["full"]), read_only=True) as con:
        deciles = con.execute("""
            select decile, sum(mean_p_return * customers) / sum(customers) as predicted,
                   sum(returned) / sum(customers) as observed
            from marts.churn_score_calibration
            where scope_level = 'group'
            group by decile order by decile
        """).df()
    assert list(deciles["decile"]) == list(range(1, 11))
    assert ((deciles["predicted"] - deciles["observed"]).abs() <= CALIBRATION_BOUND).all(), deciles
    # The deciles sort the customers: the lowest returns far less than the highest.
    assert deciles["observed"].iloc[0] < deciles["observed"].iloc[-1] - 0.3, deciles


def test_a_model_is_refitted_only_when_its_training_rows_change_and_refits_the_same(builds):
    with duckdb.connect(str(builds["full_working"]), read_only=True) as con:
        featured = con.table("intermediate.int_customer_months_featured")
        stored = con.table("intermediate.int_churn_models_fitted").order("fitted_through").df()
        assert len(stored) >= 12
        previous = stored.copy()
        # Same key and fingerprint: kept as stored, whatever it holds.
        previous.at[0, "model"] = b"kept, not refitted"
        # Another fingerprint (as after a late drop): fitted again.
        previous.at[1, "fingerprint"] = "rows changed"
        previous.at[1, "model"] = b"stale"
        again = fitted_models(featured, previous).sort_values("fitted_through").reset_index(drop=True)
        matrix = con.sql("select * from intermediate.int_customer_months_featured order by store_code, vin, month_end").df()
    assert list(again["fitted_through"]) == list(stored["fitted_through"])
    assert bytes(again.at[0, "model"]) == b"kept, not refitted"
    assert again.at[1, "fingerprint"] == stored.at[1, "fingerprint"]
    # The refit is the stored model again: the same predictions to the last bit.
    from churn_score.features import feature_matrix
    rows = feature_matrix(matrix).to_numpy()
    refitted, original = (FittedModel.from_bytes(bytes(m)) for m in (again.at[1, "model"], stored.at[1, "model"]))
    assert (refitted.predict(rows) == original.predict(rows)).all()
    # Data after a month end leaves the models fitted before it as they were.
    with duckdb.connect(str(builds["cut_working"]), read_only=True) as con:
        cut = con.table("intermediate.int_churn_models_fitted").df()
    shared = cut.merge(stored, on="fitted_through", suffixes=("_cut", "_full"))
    assert len(shared) >= 10
    assert (shared["fingerprint_cut"] == shared["fingerprint_full"]).all()


def test_a_large_training_set_is_a_fixed_sample_of_whole_customers(builds, monkeypatch):
    """Past TRAINING_ROWS a model trains on about that many customer-months:
    every month of a sampled customer (store x VIN) or none, the same rows
    every time. The landing is small, so the cap is lowered to a seventh of
    its twelve training months' rows."""
    import churn_score.fitting as fitting

    with duckdb.connect(str(builds["full_working"]), read_only=True) as con:
        featured = con.table("intermediate.int_customer_months_featured")
        latest = con.sql("select trained_from, fitted_through from intermediate.int_churn_models_fitted "
                         "order by fitted_through desc limit 1").fetchone()
        months = [pd.Timestamp(m) for m in pd.date_range(latest[0], latest[1], freq="ME")]
        assert len(months) == fitting.TRAINING_MONTHS
        every = featured.filter(f"month_end between date '{latest[0]}' and date '{latest[1]}'").df()
        assert len(training_rows(featured, months, len(every))) == len(every)  # under the cap: every row
        cap = len(every) // 7
        monkeypatch.setattr(fitting, "TRAINING_ROWS", cap)
        sample = training_rows(featured, months, len(every))
        again = training_rows(featured, months, len(every))
    pd.testing.assert_frame_equal(sample, again)
    assert 0.7 * cap <= len(sample) <= 1.3 * cap, (len(sample), cap)
    sampled = set(zip(sample["store_code"], sample["vin"]))
    whole = every[[(s, v) in sampled for s, v in zip(every["store_code"], every["vin"])]]
    assert len(whole) == len(sample)


def test_each_model_fits_on_the_rows_a_query_of_its_own_would_read(builds, monkeypatch):
    """fitted_models reads every model's training rows in one query and
    takes each model's from them: each gets exactly the rows, order and
    types of a query of its own months and its own share of customers. The
    cap is lowered so that the models keep different shares."""
    import churn_score.fitting as fitting
    import churn_score.scoring as scoring

    fitted_on = {}
    fit_alone = scoring._fitted_row

    def recording(training, row):
        fitted_on[row["fitted_through"]] = (row["trained_from"], training)
        return fit_alone(training, row)

    with duckdb.connect(str(builds["full_working"]), read_only=True) as con:
        featured = con.table("intermediate.int_customer_months_featured")
        monthly = dict(con.sql("select month_end, count(*) from intermediate.int_customer_months_featured "
                               "group by all").fetchall())
        smallest = min(sum(monthly[m.date()] for m in pd.date_range(trained_from, through, freq="ME"))
                       for trained_from, through in con.sql("select trained_from, fitted_through "
                                                            "from intermediate.int_churn_models_fitted").fetchall())
        monkeypatch.setattr(fitting, "TRAINING_ROWS", smallest // 3)
        monkeypatch.setattr(scoring, "_fitted_row", recording)
        fitted_models(featured, None)
        shares = set()
        for through, (trained_from, training) in fitted_on.items():
            months = pd.date_range(trained_from, through, freq="ME")
            keep = fitting.sample_buckets(sum(monthly[m.date()] for m in months))
            shares.add(keep)
            alone = con.sql(f"""
                select * from intermediate.int_customer_months_featured
                where month_end between date '{months[0].date()}' and date '{months[-1].date()}'
                    and hash(store_code, vin) % {fitting.SAMPLE_BUCKETS} < {keep}
                order by store_code, vin, month_end""").df()
            pd.testing.assert_frame_equal(training, alone)
    assert len(fitted_on) >= 12 and len(shares) > 1, (len(fitted_on), shares)


def test_scoring_in_slices_gives_the_published_scores(builds, monkeypatch):
    """A month is scored in slices of SCORE_SLICE_ROWS (memory stays bounded
    at a group's size); scoring is row by row, so slices of 97 rows give the
    scores the build published, every row, to the last bit."""
    import churn_score.scoring as scoring

    monkeypatch.setattr(scoring, "SCORE_SLICE_ROWS", 97)
    with duckdb.connect() as session:
        session.execute(f"attach '{builds['full_working']}' as work (read_only)")
        due = session.table("work.intermediate.int_churn_scores_due")
        assert due.aggregate("count(*)").fetchone()[0] > 10 * 97  # every month in several slices
        rescored = scoring.scored_months(
            session, session.table("work.intermediate.int_customer_months_featured"), due,
            session.table("work.intermediate.int_churn_models_fitted").df(),
        ).df()
    columns = ["store_code", "vin", "month_end", "p_return", "fitted_through"] + [
        f"reason_{i}{part}" for i in range(1, scoring.REASONS + 1) for part in ("", "_effect")]
    published = _scores(builds["full"])[columns]
    rescored = rescored[columns].sort_values(["store_code", "vin", "month_end"]).reset_index(drop=True)
    rescored["month_end"] = rescored["month_end"].astype(published["month_end"].dtype)
    rescored["fitted_through"] = rescored["fitted_through"].astype(published["fitted_through"].dtype)
    pd.testing.assert_frame_equal(rescored, published, check_dtype=False)


def test_the_forest_scores_and_effects_are_scikit_learns_to_the_last_bit(builds):
    """churn_score/forest.py scores a row and its driver groups' variants in
    one pass; each must be what scikit-learn's predict_proba gives that
    variant, to the last bit. Worked out independently here: every model
    the build stored, on 5,000 featured customer-months, plus rows with
    missing values (NaN goes the way each split learned) and rows that are
    the typical customer in some groups (an effect of exactly 0)."""
    from churn_score.features import DRIVER_GROUPS, feature_matrix
    from churn_score.scoring import _forest

    with duckdb.connect(str(builds["full_working"]), read_only=True) as con:
        models = con.execute("select fitted_through, model from intermediate.int_churn_models_fitted").fetchall()
        featured = con.execute("select * from intermediate.int_customer_months_featured").df()
    assert len(models) >= 12
    rng = np.random.default_rng(7)
    sample = feature_matrix(featured.iloc[rng.choice(len(featured), 5_000, replace=False)]).to_numpy()
    for fitted_through, blob in models:
        model = FittedModel.from_bytes(bytes(blob))
        values = sample
        edited = values[rng.choice(len(values), 50)]
        edited[rng.random(edited.shape) < 0.2] = np.nan
        typical = values[rng.choice(len(values), 50)]
        for group in DRIVER_GROUPS[::3]:
            typical[:, [model.columns.index(f) for f in group.features]] = model.reference[list(group.features)]
        values = np.concatenate([values, edited, typical])
        p_return, effects = _forest(model).p_return_and_group_effects(values)

        assert np.array_equal(p_return, model.estimator.predict_proba(values)[:, 1])
        for g, group in enumerate(DRIVER_GROUPS):
            columns = [model.columns.index(f) for f in group.features]
            reference = model.reference[list(group.features)].to_numpy(dtype=float)
            as_typical = values.copy()
            as_typical[:, columns] = reference
            expected = p_return - model.estimator.predict_proba(as_typical)[:, 1]
            is_typical = (values[:, columns] == reference).all(axis=1)
            expected[is_typical] = 0.0
            assert np.array_equal(effects[:, g], expected), (fitted_through, group.name)
        assert (effects[-50:, ::3] == 0).all()
