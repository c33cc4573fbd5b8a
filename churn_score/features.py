"""The churn risk score's feature matrix (SPEC section 8a), read from
intermediate.int_customer_months_featured, and the groups of features a
service manager reads as the reasons behind a score."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import numpy as np
import pandas as pd
import yaml

# Days in an average month: recency against the brand's threshold in months.
DAYS_PER_MONTH = 30.44

# The columns of int_customer_months_featured a model is fitted from: the
# keys, feature_matrix's inputs and the label. The dbt project names them
# (var churn_score_fit_inputs), as its featured model hashes them into each
# row's fit_inputs_hash, which the fingerprints sum.
FIT_INPUTS: list[str] = yaml.safe_load(
    (Path(__file__).resolve().parent.parent / "dbt_project" / "dbt_project.yml").read_text(encoding="utf-8")
)["vars"]["churn_score_fit_inputs"]


def feature_matrix(months: pd.DataFrame) -> pd.DataFrame:
    """One row per customer-month, every column a number, no NULL: a
    missing value becomes 0 beside a 0/1 column saying it is missing, so
    both model families read the same matrix."""
    months = months[FIT_INPUTS]  # a column read here but not hashed would escape the fingerprint
    gap_known = months["mean_visit_gap_days"].notna()
    due_known = months["days_past_mileage_due"].notna()
    age_known = months["vehicle_age_years"].notna()
    days = months["days_since_last_visit"].astype(float)
    columns = {
        "days_since_last_visit": days,
        "recency_over_at_risk_threshold": days / (months["at_risk_after_months"].astype(float) * DAYS_PER_MONTH),
        "days_beyond_usual_gap": (days - months["mean_visit_gap_days"]).where(gap_known, 0.0),
        "visits_last_12m": months["visits_last_12m"].astype(float),
        "visits_last_24m": months["visits_last_24m"].astype(float),
        "visits_to_date": months["visits_to_date"].astype(float),
        "has_visit_gap": gap_known.astype(float),
        "mean_visit_gap_days": months["mean_visit_gap_days"].fillna(0.0),
        "stddev_visit_gap_days": months["stddev_visit_gap_days"].fillna(0.0),
        "spend_last_12m": months["spend_last_12m"].astype(float),
        "spend_trend": months["spend_trend"].astype(float),
        "maintenance_share": months["maintenance_share"].astype(float),
        "repair_bodywork_share": months["repair_bodywork_share"].astype(float),
        "has_mileage_due": due_known.astype(float),
        "days_past_mileage_due": months["days_past_mileage_due"].astype(float).fillna(0.0),
        "has_vehicle_age": age_known.astype(float),
        "vehicle_age_years": months["vehicle_age_years"].astype(float).fillna(0.0),
        "vehicle_sold_by_store": _flag(months["vehicle_sold_by_store"]),
        "has_policy_in_force": _flag(months["has_policy_in_force"]),
        "policy_expiring_soon": _flag(months["policy_expiring_soon"]),
        "policy_bought_here": _flag(months["policy_bought_here"]),
        "survey_says_service": _flag(months["survey_says_service"]),
        "survey_says_price": _flag(months["survey_says_price"]),
        "survey_says_distance": _flag(months["survey_says_distance"]),
        "survey_says_sold_or_moved": _flag(months["survey_says_sold_or_moved"]),
        "survey_says_serviced_elsewhere": _flag(months["survey_says_serviced_elsewhere"]),
        "at_risk_after_months": months["at_risk_after_months"].astype(float),
        "churned_after_months": months["churned_after_months"].astype(float),
    }
    return pd.DataFrame(columns, index=months.index)


def _flag(values: pd.Series) -> pd.Series:
    return values.astype("boolean").fillna(False).astype(float)


# A customer-month's values of one driver group's features, feature -> value.
Row = Mapping[str, float]


@dataclass(frozen=True)
class DriverGroup:
    """Features that speak of one thing, and how to say it for one customer."""

    name: str
    features: tuple[str, ...]
    describe: Callable[[Row], str]


def _spend(row: Row) -> str:
    trend = row["spend_trend"]
    direction = "up" if trend > 0 else "down" if trend < 0 else "level"
    return f"spent {row['spend_last_12m']:,.0f} CNY in the last 12 months ({direction} {abs(trend):,.0f} on the year before)"


def _mileage(row: Row) -> str:
    if not row["has_mileage_due"]:
        return "mileage not known well enough for a due date"
    days = int(row["days_past_mileage_due"])
    return f"{days} days past the mileage-due service" if days >= 0 else f"mileage service due in {-days} days"


def _insurance(row: Row) -> str:
    if not row["has_policy_in_force"]:
        return "no commercial insurance in force on our books"
    where = "bought here" if row["policy_bought_here"] else "bought elsewhere"
    soon = ", expiring within 3 months" if row["policy_expiring_soon"] else ""
    return f"commercial insurance {where}{soon}"


def _survey(row: Row) -> str:
    said = [
        text
        for column, text in (
            ("survey_says_serviced_elsewhere", "services elsewhere"),
            ("survey_says_service", "unhappy with our service"),
            ("survey_says_price", "finds us expensive"),
            ("survey_says_distance", "finds us too far"),
            ("survey_says_sold_or_moved", "sold the car or moved"),
        )
        if row[column]
    ]
    return "survey since the last visit: " + ", ".join(said) if said else "no survey complaint since the last visit"


def _regularity(row: Row) -> str:
    if not row["has_visit_gap"]:
        return "only one visit so far"
    return (
        f"comes every {row['mean_visit_gap_days']:.0f} days on average "
        f"(give or take {row['stddev_visit_gap_days']:.0f})"
    )


DRIVER_GROUPS: tuple[DriverGroup, ...] = (
    DriverGroup(
        "recency",
        ("days_since_last_visit", "recency_over_at_risk_threshold", "days_beyond_usual_gap"),
        lambda row: f"{row['days_since_last_visit']:.0f} days since the last visit",
    ),
    DriverGroup(
        "frequency",
        ("visits_last_12m", "visits_last_24m", "visits_to_date"),
        lambda row: f"{row['visits_last_12m']:.0f} visits in the last 12 months, {row['visits_to_date']:.0f} in all",
    ),
    DriverGroup("regularity", ("has_visit_gap", "mean_visit_gap_days", "stddev_visit_gap_days"), _regularity),
    DriverGroup("spend", ("spend_last_12m", "spend_trend"), _spend),
    DriverGroup(
        "service_mix",
        ("maintenance_share", "repair_bodywork_share"),
        lambda row: f"{row['maintenance_share']:.0%} of visits maintenance, "
        f"{row['repair_bodywork_share']:.0%} repair or bodywork",
    ),
    DriverGroup("mileage", ("has_mileage_due", "days_past_mileage_due"), _mileage),
    DriverGroup(
        "vehicle",
        ("has_vehicle_age", "vehicle_age_years", "vehicle_sold_by_store"),
        lambda row: (f"car {row['vehicle_age_years']:.1f} years old" if row["has_vehicle_age"] else "car age unknown")
        + (", sold by us" if row["vehicle_sold_by_store"] else ", not sold by us"),
    ),
    DriverGroup(
        "insurance", ("has_policy_in_force", "policy_expiring_soon", "policy_bought_here"), _insurance
    ),
    DriverGroup(
        "survey",
        (
            "survey_says_service",
            "survey_says_price",
            "survey_says_distance",
            "survey_says_sold_or_moved",
            "survey_says_serviced_elsewhere",
        ),
        _survey,
    ),
    DriverGroup(
        "brand_rule",
        ("at_risk_after_months", "churned_after_months"),
        lambda row: f"brand rule: at risk after {row['at_risk_after_months']:.0f} months",
    ),
)


def check_groups_cover(columns: list[str]) -> None:
    """Every feature belongs to exactly one driver group: a contribution
    left out would make the reasons dishonest."""
    grouped = [feature for group in DRIVER_GROUPS for feature in group.features]
    if sorted(grouped) != sorted(columns):
        raise ValueError(f"driver groups do not cover the features once each: {sorted(set(grouped) ^ set(columns))}")


def described(values: np.ndarray, columns: list[str], picked: np.ndarray) -> np.ndarray:
    """The words for each row's picked driver groups: `picked` holds, per
    row of the feature matrix `values` (columns named by `columns`) and
    reason, an index into DRIVER_GROUPS; the result holds the group's
    describe of that row, in the same shape.

    A group's words read its own features only, and most customers share
    them (days since the last visit, the brand rule, no survey complaint):
    so each group's describe runs once per distinct value of its features
    among the rows that picked it, not once per row. Distinct by their
    bytes: rows with equal bytes hold equal values and get equal words."""
    position = {column: i for i, column in enumerate(columns)}
    words = np.empty(picked.shape, dtype=object)
    for g, group in enumerate(DRIVER_GROUPS):
        picks = picked == g  # rows x reasons
        rows = np.flatnonzero(picks.any(axis=1))
        if not len(rows):
            continue
        group_values = np.ascontiguousarray(values[np.ix_(rows, [position[f] for f in group.features])])
        row_bytes = group_values.view(np.dtype((np.void, group_values.dtype.itemsize * group_values.shape[1])))
        _, first, inverse = np.unique(row_bytes.ravel(), return_index=True, return_inverse=True)
        distinct_words = np.array(
            [group.describe(dict(zip(group.features, group_values[i].tolist()))) for i in first], dtype=object
        )
        row_words = distinct_words[inverse.ravel()]
        for reason in range(picked.shape[1]):
            in_rows = picks[rows, reason]
            words[rows[in_rows], reason] = row_words[in_rows]
    return words
