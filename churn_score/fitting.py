"""Which model scores which month, and fitting it (SPEC section 8a).

The score of month end M comes from a model fitted on the customer-months
whose six-month outcome was complete at M: month ends up to M - 6 months,
and never one whose window runs past the data date. The month ends a model
is fitted through are its key: every month that shares a key shares the
model, so a daily run refits nothing until a new month's outcome completes
(or the training rows themselves changed: a late or corrected drop).
"""

from __future__ import annotations

import functools
import hashlib
import pickle
from dataclasses import dataclass

import numpy as np
import pandas as pd
import sklearn
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import ThreadpoolController

from churn_score.features import feature_matrix

# Bumped whenever the estimator, its settings or the features change: a
# stored model with another spec is refitted.
MODEL_SPEC = "hgb-2"
SEED = 20261202
# A model is fitted on the latest TRAINING_MONTHS month ends with a complete
# outcome, and only once that many exist (the first months of a landing are
# not scored).
TRAINING_MONTHS = 12
OUTCOME_MONTHS = 6
# A model trains on at most about this many customer-months: past it, on the
# customers (store x VIN) whose hash falls in a share of SAMPLE_BUCKETS
# (every month of a customer or none), the same rows in every build. At 20
# stores twelve month ends hold 2.2M rows; a quarter of a million fit a
# gradient-boosted model of this size as well at a tenth of the time and
# memory (docs/decisions.md, "The churn risk score").
TRAINING_ROWS = 250_000
SAMPLE_BUCKETS = 10_000


def month_end(value) -> pd.Timestamp:
    return pd.Timestamp(value) + pd.offsets.MonthEnd(0)


def months_before(end: pd.Timestamp, months: int) -> pd.Timestamp:
    return month_end(pd.Timestamp(end) - pd.DateOffset(months=months))


@dataclass(frozen=True)
class Plan:
    """The model key (fitted through) of every scored month end, and the
    month ends each key trains on."""

    fitted_through: dict[pd.Timestamp, pd.Timestamp]
    training_months: dict[pd.Timestamp, list[pd.Timestamp]]

    def scored_range(self, through: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp]:
        """The first and last month end the model of key `through` scores:
        a run of consecutive month ends (the months six after each complete
        one, then every later month for the latest), so two dates say which
        months a stored score of that model belongs to."""
        scored = sorted(m for m, key in self.fitted_through.items() if key == through)
        expected = pd.date_range(scored[0], scored[-1], freq="ME")
        if list(expected) != scored:
            raise AssertionError(f"the months of the model fitted through {through.date()} are not consecutive")
        return scored[0], scored[-1]


def plan(month_ends: list[pd.Timestamp], complete_month_ends: list[pd.Timestamp]) -> Plan:
    """month_ends: every month end of the feature mart; complete_month_ends:
    those whose outcome window has ended by the data date."""
    month_ends = sorted(month_end(m) for m in month_ends)
    complete = sorted(month_end(m) for m in complete_month_ends)
    fitted_through: dict[pd.Timestamp, pd.Timestamp] = {}
    training: dict[pd.Timestamp, list[pd.Timestamp]] = {}
    if not complete:
        return Plan(fitted_through, training)
    for scored in month_ends:
        through = min(months_before(scored, OUTCOME_MONTHS), complete[-1])
        months = [m for m in complete if m <= through][-TRAINING_MONTHS:]
        if len(months) < TRAINING_MONTHS:
            continue
        fitted_through[scored] = through
        training[through] = months
    return Plan(fitted_through, training)


def fingerprint(month_hashes: dict[pd.Timestamp, int], months: list[pd.Timestamp]) -> str:
    """What a model was fitted from: the spec, scikit-learn's version and the
    row hashes of its training month ends. Equal fingerprints, equal model
    (the fit is deterministic), so a stored model is reused exactly when a
    refit would give the same."""
    digest = hashlib.sha256(
        f"{MODEL_SPEC}|{sklearn.__version__}|{SEED}|{TRAINING_ROWS}/{SAMPLE_BUCKETS}".encode())
    for month in months:
        digest.update(f"|{month.date()}:{month_hashes.get(month, 0)}".encode())
    return digest.hexdigest()


@functools.cache
def _thread_pools() -> ThreadpoolController:
    """The native thread pools loaded (scikit-learn's OpenMP, BLAS), found
    once: threadpoolctl.threadpool_limits looks them up on every call, 2.6 ms
    each, and the scoring predicts a few thousand times a build."""
    return ThreadpoolController()


def one_thread():
    """Native code (the fit, the predictions) on one thread while in this
    context: the same sums in the same order on any machine and load."""
    return _thread_pools().limit(limits=1)


def new_estimator() -> HistGradientBoostingClassifier:
    # No early stopping: it would hold out a random validation split.
    return HistGradientBoostingClassifier(
        max_iter=60, learning_rate=0.1, max_leaf_nodes=15, min_samples_leaf=50,
        early_stopping=False, random_state=SEED,
    )


@dataclass
class FittedModel:
    estimator: HistGradientBoostingClassifier
    # The reference customer the reasons compare with: the training rows' medians.
    reference: pd.Series
    columns: list[str]

    def predict(self, matrix: np.ndarray) -> np.ndarray:
        with one_thread():
            return self.estimator.predict_proba(matrix)[:, 1]

    def to_bytes(self) -> bytes:
        return pickle.dumps(self, protocol=5)

    @staticmethod
    def from_bytes(blob: bytes) -> "FittedModel":
        # Written by this module into the working warehouse (owner-only), never from outside.
        return pickle.loads(blob)


def sample_buckets(rows: int) -> int:
    """How many of SAMPLE_BUCKETS hash buckets of customers a model with
    `rows` training rows keeps: all of them up to TRAINING_ROWS."""
    if rows <= TRAINING_ROWS:
        return SAMPLE_BUCKETS
    return -(-SAMPLE_BUCKETS * TRAINING_ROWS // rows)


def fit(months: pd.DataFrame) -> FittedModel:
    """Fit on customer-months (rows of int_customer_months_featured), in
    key order so that the same rows give the same model."""
    months = months.sort_values(["store_code", "vin", "month_end"], kind="stable")
    matrix = feature_matrix(months)
    labels = months["returned_within_6m"].astype(bool).to_numpy()
    estimator = new_estimator()
    with one_thread():
        estimator.fit(matrix.to_numpy(), labels)
    return FittedModel(estimator, matrix.median(), list(matrix.columns))
