"""The two steps the dbt Python models run: fit the models the scored
months need (reusing stored ones fitted from the same rows), then score the
customer-months a build recomputes with their month's model and say why.

Both spread their work over WORKERS threads (scikit-learn's fitting and
the scoring's trees, churn_score/forest.py, run in compiled code that
releases the GIL), each fit on one OpenMP thread so that results do not
depend on the machine's load; only the calling thread talks to DuckDB."""

from __future__ import annotations

import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from churn_score.features import DRIVER_GROUPS, FIT_INPUTS, check_groups_cover, described, feature_matrix
from churn_score.fitting import (
    MODEL_SPEC, SAMPLE_BUCKETS, FittedModel, fingerprint, fit, month_end, plan, sample_buckets,
)

if TYPE_CHECKING:
    from churn_score.forest import Forest

REASONS = 3
# Customer-months scored per task: bounds what a task holds (about 2 KB a row) whatever the group's size.
SCORE_SLICE_ROWS = 50_000
WORKERS = max(1, min(2, os.cpu_count() or 1))


def _month_facts(featured: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """Per month end: whether every outcome is complete, its rows, and the
    sum of its rows' fit_inputs_hash, the hash of what a model fits on (what
    the fingerprints are made of; an owner's new pseudonym, say, refits
    nothing). The featured model hashes the rows it writes, so this reads
    three narrow columns, not every fit input of every row."""
    facts = featured.query(
        "featured",
        """select month_end, bool_and(label_complete) as complete, count(*) as row_count,
                  cast(sum(fit_inputs_hash) as varchar) as row_hash
           from featured group by month_end order by month_end""",
    ).df()
    facts["month_end"] = facts["month_end"].map(month_end)
    return facts


def training_rows(featured: duckdb.DuckDBPyRelation, months: list[pd.Timestamp], rows: int) -> pd.DataFrame:
    """The rows a model fits on: its month ends' customer-months, or the
    sample of customers fitting.sample_buckets keeps of them."""
    keep = sample_buckets(rows)
    return _model_rows(_training_sample(featured, {month: keep for month in months}), months, keep)


def _training_sample(featured: duckdb.DuckDBPyRelation, keep_of_month: dict[pd.Timestamp, int]) -> pd.DataFrame:
    """In one read, the rows several models fit on: per month end, the
    customer-months of the customers whose hash bucket is under the largest
    share a model keeps of that month (`keep_of_month`), with the bucket, in
    key order. A model's rows are then a filter of these (_model_rows): the
    twelve months of consecutive models overlap in eleven, so a read per
    model read each month up to twelve times (at 100 stores, 19 models'
    reads took 36 s of the full build's 57 s of fitting)."""
    shares = " or ".join(f"(month_end = date '{month.date()}' and sample_bucket < {keep})"
                         for month, keep in sorted(keep_of_month.items()))
    return featured.query(
        "featured",
        f"""select * from (select *, hash(store_code, vin) % {SAMPLE_BUCKETS} as sample_bucket from featured)
            where {shares or "false"} order by store_code, vin, month_end""",
    ).df()


def _model_rows(sample: pd.DataFrame, months: list[pd.Timestamp], keep: int) -> pd.DataFrame:
    """A model's rows from _training_sample's: its months, its share."""
    chosen = sample["month_end"].isin(months) & (sample["sample_bucket"] < keep)
    return sample.loc[chosen].drop(columns="sample_bucket").reset_index(drop=True)


def _oldest_results(pending: deque[Future], limit: int) -> list:
    """Wait for the oldest futures until at most `limit` are pending; their
    results, oldest first. Bounds the frames held in memory to a few."""
    return [pending.popleft().result() for _ in range(len(pending) - limit)]


MODEL_TYPES = {"fitted_through": "datetime64[s]", "fingerprint": "string", "model_spec": "string",
               "trained_from": "datetime64[s]", "training_rows": "int64", "training_return_rate": "float64",
               "scores_from": "datetime64[s]", "scores_through": "datetime64[s]", "model": "object"}


def fitted_models(featured: duckdb.DuckDBPyRelation, previous: pd.DataFrame | None) -> pd.DataFrame:
    """One row per model the scored months need: its key (fitted_through),
    fingerprint, the pickled model, what it was fitted on and the month ends
    it scores. A previous row with the same key and fingerprint keeps its
    model."""
    facts = _month_facts(featured)
    schedule = plan(list(facts["month_end"]), list(facts.loc[facts["complete"], "month_end"]))
    hashes = dict(zip(facts["month_end"], facts["row_hash"]))
    counts = dict(zip(facts["month_end"], facts["row_count"]))
    stored = {}
    if previous is not None:
        stored = {(month_end(r.fitted_through), r.fingerprint): r for r in previous.itertuples()}
    rows: list[dict | tuple | Future] = []  # kept models, models to fit, then their fits
    keep_of_month: dict[pd.Timestamp, int] = {}
    for through, months in sorted(schedule.training_months.items()):
        print_ = fingerprint(hashes, months)
        scores_from, scores_through = schedule.scored_range(through)
        # A kept model's months can grow: the latest scores every month after its key's sixth.
        ranges = {"scores_from": scores_from, "scores_through": scores_through}
        kept = stored.get((through, print_))
        if kept is not None:
            rows.append({c: getattr(kept, c) for c in MODEL_TYPES if c not in ranges} | ranges)
            continue
        keep = sample_buckets(sum(counts[m] for m in months))
        for month in months:
            keep_of_month[month] = max(keep_of_month.get(month, 0), keep)
        rows.append((months, keep, {"fitted_through": through, "fingerprint": print_, "model_spec": MODEL_SPEC,
                                    "trained_from": months[0], **ranges}))
    sample = _training_sample(featured, keep_of_month) if keep_of_month else None
    pending: deque[Future] = deque()
    with ThreadPoolExecutor(WORKERS) as pool:
        for i, row in enumerate(rows):
            if isinstance(row, tuple):
                months, keep, fitted = row
                rows[i] = pool.submit(_fitted_row, _model_rows(sample, months, keep), fitted)
                pending.append(rows[i])
                _oldest_results(pending, WORKERS)
        rows = [row.result() if isinstance(row, Future) else row for row in rows]
    # Typed even when empty (a landing too short to score any month).
    return pd.DataFrame(rows, columns=list(MODEL_TYPES)).astype(MODEL_TYPES)


def _fitted_row(training: pd.DataFrame, row: dict) -> dict:
    return row | {
        "training_rows": len(training),
        "training_return_rate": float(training["returned_within_6m"].mean()),
        "model": fit(training).to_bytes(),
    }


# Arrow, not pandas: DuckDB reads an Arrow table where it would convert a
# frame's strings to Python objects first (5.5 s of a 100-store month's 44 s).
SCORE_SCHEMA = pa.schema(
    [("store_code", pa.string()), ("vin", pa.string()), ("month_end", pa.timestamp("s")),
     ("fitted_through", pa.timestamp("s")), ("model_fingerprint", pa.string()), ("p_return", pa.float64())]
    + [field for i in range(1, REASONS + 1)
       for field in ((f"reason_{i}", pa.string()), (f"reason_{i}_effect", pa.float64()))]
)


def scored_months(
    session: duckdb.DuckDBPyConnection,
    featured: duckdb.DuckDBPyRelation,
    due: duckdb.DuckDBPyRelation,
    models: pd.DataFrame,
) -> duckdb.DuckDBPyRelation:
    """One row per customer-month of `due` (int_churn_scores_due: the
    customer-months this build scores, each with the key and fingerprint of
    the model of its month; their features are `featured`'s): p_return, and
    the three driver groups that move this customer's p_return most from the
    typical customer's, in words, with that move. Read one month of one
    model at a time and scored in slices of SCORE_SLICE_ROWS into a table
    of the session, so memory holds a month and a few slices, not the
    history."""
    by_model = {(month_end(r.fitted_through), r.fingerprint): r.model for r in models.itertuples()}
    chunks = due.query(
        "due", "select distinct fitted_through, model_fingerprint, month_end from due order by all"
    ).fetchall()
    # The due rows' features, read from featured once and kept in month order:
    # each month read below then skips the rest (a query per month over
    # featured itself read all of it each time: 3.7 s of a 20-store day's 11 s).
    # Only the columns the scoring reads: the pseudonym alone is 64 characters a row.
    due_features = "churn_features_due"
    featured.set_alias("f").join(
        due.set_alias("d"), "f.store_code = d.store_code and f.vin = d.vin and f.month_end = d.month_end"
    ).select(", ".join(f"f.{column}" for column in FIT_INPUTS)
             + ", d.fitted_through as due_fitted_through, d.model_fingerprint as due_model_fingerprint").order(
        "month_end"
    ).create(due_features)  # a temporary table of the session
    result = "churn_scores_of_this_build"
    columns = ", ".join(f"cast({c} as date) as {c}" if c in ("month_end", "fitted_through") else c
                        for c in SCORE_SCHEMA.names)
    pending: deque[Future] = deque()

    def store(scored: pa.Table, *, first: bool = False) -> None:
        session.register("scored_frame", scored)
        into = f"create or replace temp table {result} as" if first else f"insert into {result}"
        try:
            session.execute(f"{into} select {columns} from scored_frame")
        finally:
            session.unregister("scored_frame")

    store(SCORE_SCHEMA.empty_table(), first=True)  # typed even when nothing is due

    with ThreadPoolExecutor(WORKERS) as pool:
        for through, model_print, month in chunks:
            key = (month_end(through), model_print)
            if key not in by_model:
                raise ValueError(f"no model fitted through {key[0].date()} with fingerprint {model_print}")
            months = session.table(due_features).filter(
                f"month_end = date '{month}' and due_fitted_through = date '{through}' "
                f"and due_model_fingerprint = '{model_print}'"
            ).select("* exclude (due_fitted_through, due_model_fingerprint)").order("store_code, vin").df()
            model = FittedModel.from_bytes(by_model[key])
            forest = _forest(model)
            # A month of a 100-store group is most of a million customers; scored whole, its
            # feature matrix, the copies the driver groups predict on and the rows the reasons
            # are worded from took gigabytes. Scoring is row by row, so slices give the same rows.
            for start in range(0, len(months), SCORE_SLICE_ROWS):
                pending.append(pool.submit(_score, months.iloc[start:start + SCORE_SLICE_ROWS], model, forest, key))
                for scored in _oldest_results(pending, WORKERS):
                    store(scored)
            del months
        for scored in _oldest_results(pending, 0):
            store(scored)
    session.execute(f"drop table {due_features}")
    return session.table(result)


def _forest(model: FittedModel) -> Forest:
    """The model's trees laid out for scoring, with the driver groups'
    columns and the reference customer the reasons compare with."""
    # Imported where it is used: numba's import (0.3 s) stays off the fitting's path.
    from churn_score.forest import Forest

    position = {column: i for i, column in enumerate(model.columns)}
    groups = [[position[feature] for feature in group.features] for group in DRIVER_GROUPS]
    return Forest(model.estimator, groups, model.reference[model.columns].to_numpy(dtype=float))


def _score(months: pd.DataFrame, model: FittedModel, forest: Forest, key: tuple[pd.Timestamp, str]) -> pa.Table:
    through, model_print = key
    matrix = feature_matrix(months)
    check_groups_cover(list(matrix.columns))
    if list(matrix.columns) != model.columns:
        raise ValueError(f"the model fitted through {through.date()} was fitted on other features")
    # The matrix as one array, for the predictions and the reasons' rows alike.
    matrix_values = matrix.to_numpy()
    columns = list(matrix.columns)
    base, effects = forest.p_return_and_group_effects(matrix_values)
    # Largest moves first, either way; ties go to the group listed first.
    order = np.argsort(-np.abs(effects), axis=1, kind="stable")[:, :REASONS]
    words = described(matrix_values, columns, order)
    result = months[["store_code", "vin", "month_end"]].copy()
    result["fitted_through"] = through
    result["model_fingerprint"] = model_print
    # Rounded: a score is a probability to a few decimals, and equal inputs
    # must give equal stored values whichever build computed them.
    result["p_return"] = np.round(base, 6)
    for i in range(REASONS):
        result[f"reason_{i + 1}"] = words[:, i]
        result[f"reason_{i + 1}_effect"] = np.round(effects[np.arange(len(effects)), order[:, i]], 4)
    # Made Arrow here, on the worker, for the calling thread to store as it is.
    return pa.Table.from_pandas(result, schema=SCORE_SCHEMA, preserve_index=False)
