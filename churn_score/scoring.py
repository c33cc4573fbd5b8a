"""The two steps the dbt Python models run: fit the models the scored
months need (reusing stored ones fitted from the same rows), then score
every scored customer-month with its month's model and say why."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from churn_score.features import DRIVER_GROUPS, FIT_INPUTS, check_groups_cover, feature_matrix, group_effects
from churn_score.fitting import MODEL_SPEC, FittedModel, fingerprint, fit, month_end, plan

REASONS = 3


def _month_facts(featured: duckdb.DuckDBPyRelation) -> pd.DataFrame:
    """Per month end: whether every outcome is complete, and the sum of the
    hashes of its rows' fit inputs (what the fingerprints are made of; an
    owner's new pseudonym, say, refits nothing)."""
    facts = featured.query(
        "featured",
        f"""select month_end, bool_and(label_complete) as complete,
                   cast(sum(hash({", ".join(FIT_INPUTS)})) as varchar) as row_hash
            from featured group by month_end order by month_end""",
    ).df()
    facts["month_end"] = facts["month_end"].map(month_end)
    return facts


def _plan(featured: duckdb.DuckDBPyRelation):
    facts = _month_facts(featured)
    schedule = plan(list(facts["month_end"]), list(facts.loc[facts["complete"], "month_end"]))
    hashes = dict(zip(facts["month_end"], facts["row_hash"]))
    return schedule, hashes


def _rows(featured: duckdb.DuckDBPyRelation, months: list[pd.Timestamp]) -> pd.DataFrame:
    wanted = ", ".join(f"date '{m.date()}'" for m in months)
    return featured.query(
        "featured", f"select * from featured where month_end in ({wanted}) order by store_code, vin, month_end"
    ).df()


def fitted_models(featured: duckdb.DuckDBPyRelation, previous: pd.DataFrame | None) -> pd.DataFrame:
    """One row per model the scored months need: its key (fitted_through),
    fingerprint, the pickled model and what it was fitted on. A previous
    row with the same key and fingerprint is kept as it is."""
    schedule, hashes = _plan(featured)
    stored = {}
    if previous is not None:
        stored = {(month_end(r.fitted_through), r.fingerprint): r for r in previous.itertuples()}
    rows = []
    for through, months in sorted(schedule.training_months.items()):
        print_ = fingerprint(hashes, months)
        kept = stored.get((through, print_))
        if kept is not None:
            rows.append(kept._asdict())
            continue
        training = _rows(featured, months)
        model = fit(training)
        rows.append({
            "fitted_through": through,
            "fingerprint": print_,
            "model_spec": MODEL_SPEC,
            "trained_from": months[0],
            "training_rows": len(training),
            "training_return_rate": float(training["returned_within_6m"].mean()),
            "model": model.to_bytes(),
        })
    # Typed even when empty (a landing too short to score any month).
    types = {"fitted_through": "datetime64[s]", "fingerprint": "string", "model_spec": "string",
             "trained_from": "datetime64[s]", "training_rows": "int64", "training_return_rate": "float64",
             "model": "object"}
    return pd.DataFrame(rows, columns=list(types)).astype(types)


def scored_months(featured: duckdb.DuckDBPyRelation, models: pd.DataFrame) -> pd.DataFrame:
    """One row per scored customer-month: the key of the model that scored
    it, p_return, and the three driver groups that move this customer's
    p_return most from the typical customer's, in words, with that move."""
    schedule, _ = _plan(featured)
    by_key = {month_end(r.fitted_through): FittedModel.from_bytes(r.model) for r in models.itertuples()}
    parts = []
    for through in sorted(set(schedule.fitted_through.values())):
        scored = [m for m, key in schedule.fitted_through.items() if key == through]
        parts.append(_score(_rows(featured, scored), by_key[through], through))
    types = {"store_code": "string", "vin": "string", "month_end": "datetime64[s]",
             "fitted_through": "datetime64[s]", "p_return": "float64"}
    for i in range(1, REASONS + 1):
        types |= {f"reason_{i}": "string", f"reason_{i}_effect": "float64"}
    if not parts:
        return pd.DataFrame(columns=list(types)).astype(types)
    return pd.concat(parts, ignore_index=True)[list(types)].astype(types)


def _score(months: pd.DataFrame, model: FittedModel, through: pd.Timestamp) -> pd.DataFrame:
    matrix = feature_matrix(months)
    check_groups_cover(list(matrix.columns))
    if list(matrix.columns) != model.columns:
        raise ValueError(f"the model fitted through {through.date()} was fitted on other features")
    # Rounded: a score is a probability to a few decimals, and equal inputs
    # must give equal stored values whichever build computed them.
    p_return = np.round(model.predict(matrix.to_numpy()), 6)
    effects = group_effects(model.predict, matrix, model.reference)
    names = np.array([group.name for group in DRIVER_GROUPS])
    describe = {group.name: group.describe for group in DRIVER_GROUPS}
    # Largest moves first, either way; ties go to the group listed first.
    order = np.argsort(-np.abs(effects.to_numpy()), axis=1, kind="stable")[:, :REASONS]
    result = months[["store_code", "vin", "month_end"]].copy()
    result["fitted_through"] = through
    result["p_return"] = p_return
    values = effects.to_numpy()
    for i in range(REASONS):
        picked = names[order[:, i]]
        result[f"reason_{i + 1}"] = [describe[name](row) for name, (_, row) in zip(picked, matrix.iterrows())]
        result[f"reason_{i + 1}_effect"] = np.round(values[np.arange(len(values)), order[:, i]], 4)
    return result
