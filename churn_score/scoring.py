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


SCORE_TYPES = {"store_code": "string", "vin": "string", "month_end": "datetime64[s]",
               "fitted_through": "datetime64[s]", "p_return": "float64"}
for _i in range(1, REASONS + 1):
    SCORE_TYPES |= {f"reason_{_i}": "string", f"reason_{_i}_effect": "float64"}
# What a stored score was computed from: the hash of its row's features
# and the fingerprint of its model. Equal both, equal score.
SCORE_INPUTS = {"input_hash": "uint64", "model_fingerprint": "string"}


def scored_months(
    session: duckdb.DuckDBPyConnection,
    featured: duckdb.DuckDBPyRelation,
    models: pd.DataFrame,
    previous: str | None,
) -> duckdb.DuckDBPyRelation:
    """One row per scored customer-month: the key of the model that scored
    it, p_return, and the three driver groups that move this customer's
    p_return most from the typical customer's, in words, with that move.
    A row of `previous` (the stored table) whose features and model are
    unchanged is kept; only the others are scored, so a day's run scores
    the customer-months the day changed, and a refit the months of its model."""
    schedule, _ = _plan(featured)
    fingerprints = {month_end(r.fitted_through): r.fingerprint for r in models.itertuples()}
    by_key = {month_end(r.fitted_through): r.model for r in models.itertuples()}
    assigned = pd.DataFrame(
        [(m, key, fingerprints[key]) for m, key in schedule.fitted_through.items()],
        columns=["month_end", "fitted_through", "model_fingerprint"],
    ).astype({"month_end": "datetime64[s]", "fitted_through": "datetime64[s]", "model_fingerprint": "string"})
    features = [c for c in FIT_INPUTS if c != "returned_within_6m"]
    wanted = session.from_df(assigned).set_alias("assigned").join(
        featured.set_alias("featured"), "cast(assigned.month_end as date) = featured.month_end"
    ).select(
        "featured.store_code, featured.vin, featured.month_end, assigned.fitted_through, "
        f"assigned.model_fingerprint, hash({', '.join('featured.' + c for c in features)}) as input_hash"
    )
    kept_keys = None
    if previous is not None:
        kept_keys = wanted.set_alias("wanted").join(
            session.sql(f"select store_code, vin, cast(month_end as date) as month_end, input_hash, "
                        f"model_fingerprint from {previous}").set_alias("stored"),
            "wanted.store_code = stored.store_code and wanted.vin = stored.vin "
            "and wanted.month_end = stored.month_end and wanted.input_hash = stored.input_hash "
            "and wanted.model_fingerprint = stored.model_fingerprint",
        ).select("wanted.store_code, wanted.vin, wanted.month_end")
    to_score = wanted if kept_keys is None else wanted.except_(
        wanted.set_alias("w").join(kept_keys.set_alias("k"),
                                   "w.store_code = k.store_code and w.vin = k.vin and w.month_end = k.month_end")
        .select("w.*")
    )
    rows = featured.set_alias("f").join(
        to_score.set_alias("t"), "f.store_code = t.store_code and f.vin = t.vin and f.month_end = t.month_end"
    ).select("f.*, t.fitted_through, t.model_fingerprint, t.input_hash").order("store_code, vin, month_end").df()
    parts = []
    for through, months in rows.groupby("fitted_through", sort=True):
        through = month_end(through)
        part = _score(months, FittedModel.from_bytes(by_key[through]), through)
        part["input_hash"] = months["input_hash"].to_numpy()
        part["model_fingerprint"] = months["model_fingerprint"].to_numpy()
        parts.append(part)
    types = SCORE_TYPES | SCORE_INPUTS
    scored = (pd.concat(parts, ignore_index=True)[list(types)] if parts else pd.DataFrame(columns=list(types)))
    scored = session.from_df(scored.astype(types))
    casts = ", ".join(
        f"cast({c} as date) as {c}" if c in ("month_end", "fitted_through") else c for c in types
    )
    result = scored.select(casts)
    if kept_keys is not None:
        kept = session.sql(f"select * from {previous}").set_alias("p").join(
            kept_keys.set_alias("k"),
            "cast(p.month_end as date) = k.month_end and p.store_code = k.store_code and p.vin = k.vin",
        ).select(", ".join(f"cast(p.{c} as date) as {c}" if c in ("month_end", "fitted_through") else f"p.{c}"
                           for c in types))
        result = result.union(kept)
    return result


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
