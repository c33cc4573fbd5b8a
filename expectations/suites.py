"""Expectation suites of the warehouse, declared as plain data.

Every table we validate has a tuple of :class:`Check` objects. A check names one
Great Expectations (GX 1.x) expectation class and its arguments, the column it
is about, and whether it is *critical*: a failed critical check means the table
must not be published (a later step blocks publishing on it); a non-critical
check is a data-quality finding (GX severity ``warning``).

This module does not import great_expectations, so importing it (for example to
declare one Dagster asset check per table at definition time) is cheap. The
runner (:mod:`expectations.runner`) turns the checks into GX expectations.

Raw suites are derived from the landing contract (``sources/contract.py``):
key columns not null, enumerations within the contract's English codes,
amounts not negative, VINs 17 characters of the ISO 3779 alphabet, the repair
order total rule, and the load-metadata invariants. Mart suites check the grain
and the arithmetic identities of SPEC sections 6, 7 and 10.

SQL in ``UnexpectedRowsExpectation`` checks is DuckDB SQL. ``{batch}`` is the
table being validated; a literal brace must be doubled (``{{17}}``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping

from sources.contract import (
    AMOUNT,
    ENUM,
    ENUM_LIST,
    ENUMERATIONS,
    INTEGER,
    LANDING_TABLES,
    LOAD_METADATA_COLUMNS,
    LandingTable,
)

# GX expectation class names used below (attributes of great_expectations.expectations).
NOT_NULL = "ExpectColumnValuesToNotBeNull"
IN_SET = "ExpectColumnValuesToBeInSet"
BETWEEN = "ExpectColumnValuesToBeBetween"
UNIQUE = "ExpectColumnValuesToBeUnique"
COMPOUND_UNIQUE = "ExpectCompoundColumnsToBeUnique"
LENGTH_EQUAL = "ExpectColumnValueLengthsToEqual"
PAIR_A_GE_B = "ExpectColumnPairValuesAToBeGreaterThanB"
COLUMNS_PRESENT = "ExpectTableColumnsToMatchSet"
UNEXPECTED_ROWS = "UnexpectedRowsExpectation"

# ISO 3779: 17 characters, digits and capital letters except I, O and Q.
VIN_LENGTH = 17
VIN_CHARSET = "[A-HJ-NPR-Z0-9]+"  # the length is checked on its own

CHURN_STATUSES = ("active", "at_risk", "churned")
LOSS_TYPES = ("natural", "insurer_assigned", "competitor", "unknown")


@dataclass(frozen=True)
class Check:
    """One expectation on one table.

    name: stable identifier, unique within the table (e.g. ``in_set:payer``).
    expectation: GX 1.x expectation class name (``great_expectations.expectations.<name>``).
    kwargs: arguments for that class (column, value_set, unexpected_rows_query, ...).
    column: the column(s) the check is about, comma-joined for multi-column checks,
        None for table-level checks.
    critical: True blocks publishing; False is a warning.
    description: one line for people (shown in Data Docs for SQL checks).
    """

    name: str
    expectation: str
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    column: str | None = None
    critical: bool = True
    description: str = ""

    @property
    def severity(self) -> str:
        return "critical" if self.critical else "warning"


def _sql_list(values) -> str:
    return "[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _select_cols(*names: str) -> str:
    return ", ".join(_ident(n) for n in names)


# --------------------------------------------------------------------------- raw


def _raw_checks(t: LandingTable) -> tuple[Check, ...]:
    checks: list[Check] = []
    key = list(t.key)
    expected_columns = [*t.column_names, *LOAD_METADATA_COLUMNS]
    checks.append(
        Check(
            "columns_present",
            COLUMNS_PRESENT,
            {"column_set": expected_columns, "exact_match": False},
            None,
            True,
            "Every contract column and the load metadata columns exist.",
        )
    )
    # Keys not null (critical); other required columns not null (warning), except the
    # repair-order columns that decide what a visit is, which are critical.
    visit_defining = {"dms_repair_orders": {"vin", "opened_at", "status", "payer"}}
    for col in t.columns:
        if col.name in key:
            checks.append(Check(f"not_null:{col.name}", NOT_NULL, {"column": col.name}, col.name, True))
        elif col.required:
            critical = col.name in visit_defining.get(t.name, set())
            checks.append(Check(f"not_null:{col.name}", NOT_NULL, {"column": col.name}, col.name, critical))
    # Load metadata: every raw row comes from one line of one delivered file, loaded once.
    for col in ("_source_file", "_line_number", "_file_hash", "_loaded_at"):
        checks.append(Check(f"not_null:{col}", NOT_NULL, {"column": col}, col, True))
    checks.append(
        Check(
            "unique:_source_file+_line_number",
            COMPOUND_UNIQUE,
            {"column_list": ["_source_file", "_line_number"]},
            "_source_file,_line_number",
            True,
            "A file line is loaded once (a re-delivered drop replaces, never duplicates).",
        )
    )
    for col in t.columns:
        if col.kind == ENUM:
            codes = sorted(ENUMERATIONS[col.enum])
            checks.append(
                Check(f"in_set:{col.name}", IN_SET, {"column": col.name, "value_set": codes}, col.name, True)
            )
        elif col.kind == ENUM_LIST:
            codes = sorted(ENUMERATIONS[col.enum])
            c = _ident(col.name)
            query = (
                f"SELECT {_select_cols(*key, col.name)} FROM {{batch}} "
                f"WHERE {c} IS NOT NULL AND {c} <> '' "
                f"AND NOT list_has_all({_sql_list(codes)}, string_split({c}, ';'))"
            )
            checks.append(
                Check(
                    f"in_set:{col.name}",
                    UNEXPECTED_ROWS,
                    {"unexpected_rows_query": query},
                    col.name,
                    True,
                    f"Every ';'-separated code of {col.name} is one of: {', '.join(codes)}.",
                )
            )
        elif col.kind == AMOUNT:
            checks.append(
                Check(f"non_negative:{col.name}", BETWEEN, {"column": col.name, "min_value": 0}, col.name, True)
            )
        elif col.kind == INTEGER and col.name.endswith("mileage_km"):
            checks.append(
                Check(f"non_negative:{col.name}", BETWEEN, {"column": col.name, "min_value": 0}, col.name, False)
            )
    if "vin" in t.column_names:
        checks.append(
            Check("vin_length", LENGTH_EQUAL, {"column": "vin", "value": VIN_LENGTH}, "vin", False,
                  "VINs are 17 characters long.")
        )
        query = (
            f"SELECT {_select_cols(*key, *([] if 'vin' in key else ['vin']))} FROM {{batch}} "
            f"WHERE vin IS NOT NULL AND NOT regexp_full_match(vin, '{VIN_CHARSET}')"
        )
        checks.append(
            Check(
                "vin_charset",
                UNEXPECTED_ROWS,
                {"unexpected_rows_query": query},
                "vin",
                False,
                "VINs use the ISO 3779 alphabet: 0-9 and A-Z without I, O, Q.",
            )
        )
    if t.name == "dms_repair_orders":
        query = (
            "SELECT store_code, ro_number, labor_amount, parts_amount, other_amount, discount_amount, "
            "total_amount, labor_amount + parts_amount + coalesce(other_amount, 0) "
            "- coalesce(discount_amount, 0) AS expected_total FROM {batch} "
            "WHERE abs(total_amount - (labor_amount + parts_amount + coalesce(other_amount, 0) "
            "- coalesce(discount_amount, 0))) > 0.01"
        )
        checks.append(
            Check(
                "total_matches_components",
                UNEXPECTED_ROWS,
                {"unexpected_rows_query": query},
                "total_amount",
                False,
                "total_amount = labor_amount + parts_amount + other_amount - discount_amount (within 0.01).",
            )
        )
    checks.extend(_CRM_CHECKS.get(t.name, ()))
    return tuple(checks)


# Campaigns and their contacts (SPEC sections 3 and 7). Warnings, not
# critical: a campaign the effect models cannot place is a finding for the
# store, not a reason to withhold every other figure.
_CAMPAIGN_VERSIONS = (
    "(SELECT store_code AS k_store, campaign_id AS k_campaign, start_date AS k_start, end_date AS k_end "
    "FROM raw.crm_campaigns)"
)
_CRM_CHECKS: Mapping[str, tuple[Check, ...]] = MappingProxyType({
    "crm_campaigns": (
        Check("end_not_before_start", UNEXPECTED_ROWS,
              {"unexpected_rows_query": "SELECT store_code, campaign_id, start_date, end_date FROM {batch} "
                                        "WHERE end_date < start_date"},
              "start_date,end_date", False, "A campaign ends on or after its start (its window is then a period)."),
        Check("non_negative:expected_returns", BETWEEN, {"column": "expected_returns", "min_value": 0},
              "expected_returns", False, "The plan expects zero or more vehicles back."),
    ),
    "crm_campaign_contacts": (
        # The campaign may be in an earlier or a later drop than its contacts:
        # any version of it in raw will do. {batch} is a subquery GX names
        # itself, so the campaigns' columns are renamed rather than aliased.
        Check("campaign_exists", UNEXPECTED_ROWS,
              {"unexpected_rows_query": "SELECT store_code, campaign_id, vin FROM {batch} "
                                        f"WHERE NOT EXISTS (SELECT 1 FROM {_CAMPAIGN_VERSIONS} "
                                        "WHERE k_store = store_code AND k_campaign = campaign_id)"},
              "campaign_id", False, "Every contact's campaign is in the store's campaigns."),
        Check("contacted_within_campaign_period", UNEXPECTED_ROWS,
              {"unexpected_rows_query": "SELECT store_code, campaign_id, vin, contacted_at FROM {batch} "
                                        f"WHERE EXISTS (SELECT 1 FROM {_CAMPAIGN_VERSIONS} "
                                        "WHERE k_store = store_code AND k_campaign = campaign_id) "
                                        f"AND NOT EXISTS (SELECT 1 FROM {_CAMPAIGN_VERSIONS} "
                                        "WHERE k_store = store_code AND k_campaign = campaign_id "
                                        "AND CAST(contacted_at AS DATE) BETWEEN k_start AND k_end)"},
              "contacted_at", False, "A contact falls within its campaign's period (start_date to end_date)."),
    ),
})


# --------------------------------------------------------------------------- marts

KPI_COUNTS = (
    "on_file", "active", "at_risk", "churned", "base_customers", "new_customers", "won_back",
    "hidden_churn", "cohort_size", "cohort_returned", "visits", "paid_visits",
    "policies_expiring", "policies_renewed", "newly_churned", "churned_group_transfers",
    "churned_to_competitors", "churned_natural", "churned_insurer_assigned", "surveys",
    "reached_surveys", "confirmed_lost", "win_back_eligible", "won_back_after_survey", "win_back_pending",
)
KPI_RATES = (
    "churn_rate", "value_weighted_churn_rate", "cohort_churn_rate", "cohort_retention_rate",
    "labor_share", "renewal_rate", "confirmed_lost_rate", "win_back_rate",
)
KPI_MONEY = (
    "churned_annual_spend", "on_file_annual_spend", "revenue", "per_ticket_value",
    "labor_amount", "parts_amount", "parts_cost", "value_at_risk", "lifetime_value_lost",
)
KPI_COLUMNS = (
    "store_code", "month_end", "as_of_date", *KPI_COUNTS[:5], *KPI_COUNTS[5:8],
    "churn_rate", "churned_annual_spend", "on_file_annual_spend", "value_weighted_churn_rate",
    "cohort_size", "cohort_returned", "cohort_churn_rate", "cohort_retention_rate",
    "visits", "paid_visits", "revenue", "per_ticket_value", "labor_amount", "parts_amount",
    "labor_parts_ratio", "labor_share", "parts_cost", "gross_profit", "gross_margin",
    "policies_expiring", "policies_renewed", "renewal_rate", "value_at_risk",
    "newly_churned", "churned_group_transfers", "churned_to_competitors", "churned_natural",
    "churned_insurer_assigned", "newly_churned_annual_spend", "lifetime_value_lost", "surveys",
    "reached_surveys", "confirmed_lost", "insurer_assigned_only", "confirmed_lost_rate", "win_back_booked",
    "win_back_eligible", "won_back_after_survey", "win_back_pending", "win_back_rate",
)
FCT_COLUMNS = (
    "store_code", "vin", "month_end", "as_of_date", "customer_key", "brand", "model", "visits",
    "paid_visits", "revenue", "labor_amount", "parts_amount", "parts_cost", "last_visit_date",
    "annual_spend", "churn_status", "is_new", "is_won_back", "mileage_due_date",
    "overdue_by_mileage", "is_hidden_churn", "loss_type",
)
DIM_STORES_COLUMNS = ("store_code", "store_name", "brand", "city", "province", "region", "opened_on")


def _month_end_check(key: tuple[str, ...]) -> Check:
    return Check(
        "month_end_is_last_day",
        UNEXPECTED_ROWS,
        {"unexpected_rows_query": f"SELECT {_select_cols(*key)} FROM {{batch}} WHERE month_end <> last_day(month_end)"},
        "month_end",
        False,
        "month_end is the last day of its month.",
    )


def _kpi_month_checks(key: tuple[str, ...]) -> tuple[Check, ...]:
    """kpi_store_month (key store_code, month_end) and kpi_scope_month (scope_level, scope_code, month_end)."""
    checks = [
        Check("columns_present", COLUMNS_PRESENT,
              {"column_set": [*key, *(c for c in KPI_COLUMNS if c != "store_code")], "exact_match": False},
              None, True, "The published columns exist."),
        *(Check(f"not_null:{c}", NOT_NULL, {"column": c}, c, True) for c in key),
        Check("unique:" + "+".join(key), COMPOUND_UNIQUE, {"column_list": list(key)},
              ",".join(key), True, "One row per " + ", ".join(key) + "."),
    ]
    # Counts are 0, not NULL: one SQL check over all count columns (cheaper than one GX
    # expectation per column); its examples name the NULL columns of each offending row.
    null_cols = ", ".join(f"CASE WHEN {_ident(c)} IS NULL THEN '{c}' END" for c in KPI_COUNTS)
    checks.append(
        Check(
            "counts_not_null",
            UNEXPECTED_ROWS,
            {"unexpected_rows_query": f"SELECT {_select_cols(*key)}, concat_ws(',', {null_cols}) AS null_columns "
                                      f"FROM {{batch}} WHERE " + " OR ".join(f"{_ident(c)} IS NULL" for c in KPI_COUNTS)},
            ",".join(KPI_COUNTS),
            True,
            "Counts are 0, not NULL: " + ", ".join(KPI_COUNTS) + ".",
        )
    )
    for c in KPI_COUNTS:
        checks.append(Check(f"non_negative:{c}", BETWEEN, {"column": c, "min_value": 0}, c, True))
    for c in KPI_RATES:
        checks.append(Check(f"rate_between_0_1:{c}", BETWEEN, {"column": c, "min_value": 0, "max_value": 1}, c, True))
    for c in KPI_MONEY:
        checks.append(Check(f"non_negative:{c}", BETWEEN, {"column": c, "min_value": 0}, c, False))
    checks += [
        Check(
            "status_counts_sum_to_on_file",
            UNEXPECTED_ROWS,
            {"unexpected_rows_query": f"SELECT {_select_cols(*key)}, active, at_risk, churned, on_file FROM {{batch}} "
                                      "WHERE active + at_risk + churned IS DISTINCT FROM on_file"},
            "on_file",
            True,
            "active + at_risk + churned = on_file.",
        ),
        Check(
            "base_is_active_plus_at_risk",
            UNEXPECTED_ROWS,
            {"unexpected_rows_query": f"SELECT {_select_cols(*key)}, active, at_risk, base_customers FROM {{batch}} "
                                      "WHERE active + at_risk IS DISTINCT FROM base_customers"},
            "base_customers",
            True,
            "base_customers = active + at_risk.",
        ),
        Check(
            "cohort_returned_le_cohort_size",
            PAIR_A_GE_B,
            {"column_A": "cohort_size", "column_B": "cohort_returned", "or_equal": True,
             "ignore_row_if": "either_value_is_missing"},
            "cohort_returned",
            True,
            "cohort_returned <= cohort_size.",
        ),
        Check(
            "confirmed_lost_le_reached_surveys",
            PAIR_A_GE_B,
            {"column_A": "reached_surveys", "column_B": "confirmed_lost", "or_equal": True,
             "ignore_row_if": "either_value_is_missing"},
            "confirmed_lost",
            True,
            "confirmed_lost <= reached_surveys.",
        ),
        _month_end_check(key),
    ]
    return tuple(checks)


def _long_mart_checks(key: tuple[str, ...], identities: Mapping[str, str]) -> tuple[Check, ...]:
    """A roll-up mart: its grain is unique, and each identity (a SQL condition every
    row must meet, keyed by its name) holds. Identities are critical: they are the
    arithmetic the dashboards rely on."""
    checks = [
        Check("unique:" + "+".join(key), COMPOUND_UNIQUE, {"column_list": list(key)},
              ",".join(key), True, "One row per " + ", ".join(key) + "."),
        _month_end_check(key),
    ]
    for name, condition in identities.items():
        checks.append(
            Check(name, UNEXPECTED_ROWS,
                  {"unexpected_rows_query": f"SELECT {_select_cols(*key)} FROM {{batch}} WHERE NOT ({condition})"},
                  None, True, condition + ".")
        )
    return tuple(checks)


SCOPE_KEY = ("scope_level", "scope_code", "month_end")
LONG_MARTS: Mapping[str, tuple[tuple[str, ...], Mapping[str, str]]] = MappingProxyType({
    "marts.fct_group_customer_month": (
        ("vin", "month_end"),
        {"churn_status_known": "churn_status IN ('active', 'at_risk', 'churned')",
         "no_transfer_within_the_group": "NOT is_group_transfer"},
    ),
    "marts.kpi_churn_breakdown_month": (
        (*SCOPE_KEY, "dimension", "dimension_value"),
        {"statuses_sum_to_on_file": "active + at_risk + churned = on_file",
         "churn_rate_between_0_1": "churn_rate IS NULL OR churn_rate BETWEEN 0 AND 1"},
    ),
    "marts.kpi_vehicle_age_churn_month": (
        (*SCOPE_KEY, "within_years"),
        {"churned_le_vehicles": "churned <= vehicles_on_file"},
    ),
    "marts.kpi_survey_reasons_month": (
        (*SCOPE_KEY, "reason"),
        {"responses_le_reached": "responses <= reached_surveys",
         "confirmed_lost_le_responses": "confirmed_lost_responses <= responses"},
    ),
    "marts.kpi_survey_destinations_month": (
        (*SCOPE_KEY, "destination"),
        {"responses_le_reached": "responses <= reached_surveys",
         "confirmed_lost_le_responses": "confirmed_lost <= responses"},
    ),
    "marts.kpi_service_family_month": (
        (*SCOPE_KEY, "service_family"),
        {"paid_visits_le_visits": "paid_visits <= visits",
         "revenue_le_scope_revenue": "revenue <= scope_revenue"},
    ),
    "marts.kpi_campaign_effect": (
        ("store_code", "campaign_id"),
        {"matched_and_unmatched_are_the_contacted": "matched_contacted + unmatched_contacted = contacted",
         "returned_le_contacted": "returned <= contacted AND returned_after_contact <= returned",
         "matched_returned_le_matched": "matched_returned <= matched_contacted",
         "uplift_within_its_interval": "uplift IS NULL OR uplift BETWEEN uplift_ci_low AND uplift_ci_high"},
    ),
    "marts.kpi_campaign_effect_month": (
        (*SCOPE_KEY, "campaign_kind", "target_reason"),
        {"matched_and_unmatched_are_the_contacted": "matched_contacted + unmatched_contacted = contacted",
         "returned_le_contacted": "returned <= contacted AND returned_after_contact <= returned",
         "running_le_campaigns": "running_campaigns <= campaigns AND measured_campaigns <= campaigns"},
    ),
    "marts.kpi_insurer_month": (
        (*SCOPE_KEY, "insurer"),
        {"assigned_here_le_claims": "claims_assigned_here <= claims",
         "policies_le_scope_policies": "policies_sold <= scope_policies_sold"},
    ),
    "marts.churn_scores": (
        ("store_code", "vin", "month_end"),
        {"p_return_between_0_1": "p_return BETWEEN 0 AND 1",
         "value_at_risk_within_annual_spend": "expected_value_at_risk BETWEEN 0 AND annual_spend",
         # SPEC section 8a: no outcome later than the month end reaches its model.
         "fitted_six_months_before": "fitted_through <= last_day(month_end - INTERVAL 6 MONTH)"},
    ),
    "marts.churn_score_backtest": (
        SCOPE_KEY,
        {"returned_le_customers": "returned <= customers",
         "auc_between_0_1": "coalesce(score_auc BETWEEN 0 AND 1, true)",
         "brier_between_0_1": "score_brier BETWEEN 0 AND 1"},
    ),
    "marts.churn_score_calibration": (
        (*SCOPE_KEY, "decile"),
        {"returned_le_customers": "returned <= customers",
         "decile_1_to_10": "decile BETWEEN 1 AND 10"},
    ),
})


def _call_list_checks() -> tuple[Check, ...]:
    key = ("store_code", "vin")
    return (
        Check("unique:store_code+vin", COMPOUND_UNIQUE, {"column_list": list(key)},
              "store_code,vin", True, "One row per store and vehicle."),
        Check("unique:store_code+call_rank", COMPOUND_UNIQUE, {"column_list": ["store_code", "call_rank"]},
              "store_code,call_rank", True, "One rank per customer of a store."),
        # SPEC section 9: the list analysts can read carries masked phones only.
        Check("phone_is_masked", UNEXPECTED_ROWS,
              {"unexpected_rows_query": "SELECT store_code, vin FROM {batch} "
                                        "WHERE phone_masked IS NOT NULL AND phone_masked NOT LIKE '%*%'"},
              "phone_masked", True, "Every phone is masked (138****5678)."),
    )


def _source_freshness_checks() -> tuple[Check, ...]:
    return (
        Check("unique:store_code+source", COMPOUND_UNIQUE, {"column_list": ["store_code", "source"]},
              "store_code,source", True, "One row per store and drop source."),
        Check("not_null:is_late", NOT_NULL, {"column": "is_late"}, "is_late", True),
        Check("in_set:source", IN_SET, {"column": "source", "value_set": ["dms", "insurance", "survey"]},
              "source", True),
    )


def _data_date_checks() -> tuple[Check, ...]:
    return (
        Check("one_row", UNEXPECTED_ROWS,
              {"unexpected_rows_query": "SELECT count(*) AS rows FROM {batch} HAVING count(*) <> 1"},
              None, True, "One row: the last data date."),
        Check("not_null:data_as_of_date", NOT_NULL, {"column": "data_as_of_date"}, "data_as_of_date", True),
    )


# Sources a quarantined row or a rejected file can come from (sources/contract.py).
DQ_SOURCES = ["dms", "insurance", "survey", "crm", "reference"]


def _data_quality_quarantine_checks() -> tuple[Check, ...]:
    key = ["store_code", "source", "table_name", "drop_date", "reason"]
    return (
        Check("unique:" + "+".join(key), COMPOUND_UNIQUE, {"column_list": key}, ",".join(key), True,
              "One row per store, source, table, drop date and reason."),
        *(Check(f"not_null:{c}", NOT_NULL, {"column": c}, c, True) for c in ("source", "table_name", "reason", "rows")),
        Check("in_set:source", IN_SET, {"column": "source", "value_set": DQ_SOURCES}, "source", True),
        Check("positive:rows", BETWEEN, {"column": "rows", "min_value": 1}, "rows", True),
    )


def _data_quality_rejected_files_checks() -> tuple[Check, ...]:
    return (
        Check("unique:source_file", UNIQUE, {"column": "source_file"}, "source_file", True, "One row per file."),
        *(Check(f"not_null:{c}", NOT_NULL, {"column": c}, c, True) for c in ("source_file", "reason", "logged_at")),
        Check("in_set:source", IN_SET, {"column": "source", "value_set": DQ_SOURCES}, "source", True),
    )


def _fct_customer_month_checks() -> tuple[Check, ...]:
    key = ("store_code", "vin", "month_end")
    checks = [
        Check("columns_present", COLUMNS_PRESENT, {"column_set": list(FCT_COLUMNS), "exact_match": False},
              None, True, "The published columns exist."),
        *(Check(f"not_null:{c}", NOT_NULL, {"column": c}, c, True) for c in (*key, "churn_status")),
        Check("unique:store_code+vin+month_end", COMPOUND_UNIQUE, {"column_list": list(key)},
              "store_code,vin,month_end", True, "One row per store, vehicle and month end."),
        Check("in_set:churn_status", IN_SET, {"column": "churn_status", "value_set": list(CHURN_STATUSES)},
              "churn_status", True),
        Check("in_set:loss_type", IN_SET, {"column": "loss_type", "value_set": list(LOSS_TYPES)},
              "loss_type", True, "loss_type is one of the allowed values or NULL."),
        Check("non_negative:visits", BETWEEN, {"column": "visits", "min_value": 0}, "visits", True),
        Check("non_negative:paid_visits", BETWEEN, {"column": "paid_visits", "min_value": 0}, "paid_visits", True),
        Check("non_negative:revenue", BETWEEN, {"column": "revenue", "min_value": 0}, "revenue", False),
        _month_end_check(key),
    ]
    return tuple(checks)


def _campaign_return_curve_checks() -> tuple[Check, ...]:
    """kpi_campaign_return_curve: no month_end, a day offset; the curve never falls."""
    key = ("store_code", "campaign_id", "side", "day_offset")
    identities = {
        "returned_le_customers": "returned <= customers",
        "side_known": "side IN ('contacted', 'comparison')",
        "contacted_unweighted": "side <> 'contacted' OR (weighted_returned = returned AND customers = matched_contacted)",
    }
    return (
        Check("unique:" + "+".join(key), COMPOUND_UNIQUE, {"column_list": list(key)}, ",".join(key), True,
              "One row per store, campaign, side and day."),
        *(Check(name, UNEXPECTED_ROWS,
                {"unexpected_rows_query": f"SELECT {_select_cols(*key)} FROM {{batch}} WHERE NOT ({condition})"},
                None, True, condition + ".")
          for name, condition in identities.items()),
    )


def _dim_stores_checks() -> tuple[Check, ...]:
    return (
        Check("columns_present", COLUMNS_PRESENT, {"column_set": list(DIM_STORES_COLUMNS), "exact_match": False},
              None, True, "The published columns exist."),
        Check("not_null:store_code", NOT_NULL, {"column": "store_code"}, "store_code", True),
        Check("unique:store_code", UNIQUE, {"column": "store_code"}, "store_code", True, "One row per store."),
    )


def _build() -> dict[str, tuple[Check, ...]]:
    suites: dict[str, tuple[Check, ...]] = {f"raw.{t.name}": _raw_checks(t) for t in LANDING_TABLES}
    suites["marts.dim_stores"] = _dim_stores_checks()
    suites["marts.fct_customer_month"] = _fct_customer_month_checks()
    suites["marts.kpi_store_month"] = _kpi_month_checks(("store_code", "month_end"))
    suites["marts.kpi_scope_month"] = _kpi_month_checks(SCOPE_KEY)
    for table, (key, identities) in LONG_MARTS.items():
        suites[table] = _long_mart_checks(key, identities)
    suites["marts.kpi_campaign_return_curve"] = _campaign_return_curve_checks()
    suites["marts.call_list"] = _call_list_checks()
    suites["marts.source_freshness"] = _source_freshness_checks()
    suites["marts.data_date"] = _data_date_checks()
    suites["marts.data_quality_quarantine"] = _data_quality_quarantine_checks()
    suites["marts.data_quality_rejected_files"] = _data_quality_rejected_files_checks()
    for table, checks in suites.items():
        names = [c.name for c in checks]
        assert len(names) == len(set(names)), f"duplicate check names in {table}"
    return suites


#: table ('schema.name') -> its checks. Read-only.
SUITES: Mapping[str, tuple[Check, ...]] = MappingProxyType(_build())

RAW_TABLES: tuple[str, ...] = tuple(t for t in SUITES if t.startswith("raw."))
# Views validated in place of the tables they read, whose rows are theirs:
# the customer-month marts and their stored tables (the group view reads
# the store rows of the vehicles seen at one store too).
VALIDATED_THROUGH_VIEWS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "marts.fct_customer_month": ("marts.fct_customer_month_stored",),
    "marts.fct_group_customer_month": ("marts.fct_group_customer_month_stored", "marts.fct_customer_month_stored"),
})

# The rows an incremental build wrote, per table whose suite then validates
# only them (docs/decisions.md, "Incremental builds"): the raw rows loaded
# since the last completed build, the customer-months and churn scores whose
# row changed, the scope-months recomputed from them. A full rebuild validates whole tables;
# so does every table not named here (they are small, or rebuilt whole).
BUILD_WINDOW = "intermediate.int_build_window"
_CHANGED_CUSTOMER_MONTHS = "intermediate.int_customer_months_changed"
_CHANGED_SCOPE_MONTHS = (
    f"(scope_level, scope_code, month_end) IN (SELECT scope_level, scope_code, month_end FROM {_CHANGED_CUSTOMER_MONTHS})"
)
_CHANGED_STORE_CUSTOMER_MONTHS = (
    f"(store_code, vin, month_end) IN (SELECT scope_code, vin, month_end FROM {_CHANGED_CUSTOMER_MONTHS} "
    "WHERE scope_level = 'store')"
)
_CHANGED_GROUP_CUSTOMER_MONTHS = (
    f"(vin, month_end) IN (SELECT vin, month_end FROM {_CHANGED_CUSTOMER_MONTHS} WHERE scope_level = 'group')"
)
_CHANGED_SCORES = "intermediate.int_churn_scores_changed"
# The scope-months of the backtest and calibration a build recomputed: those
# of the stores and months whose scores changed in a column they read (the
# dbt macro in_changed_score_scope_months).
_CHANGED_SCORE_SCOPE_MONTHS = (
    "(scope_level, scope_code, month_end) IN (SELECT s.scope_level, s.scope_code, c.month_end "
    "FROM intermediate.int_churn_score_store_months_changed AS c "
    "JOIN intermediate.int_stores_scoped AS s USING (store_code))"
)
# The months whose as-of date the build moved (none when the data date did
# not move): the marts that show it, or count by it, rewrite them.
_MONTHS_OF_THE_DATA_DATE = f"month_end >= (SELECT as_of_moved_from_month_end FROM {BUILD_WINDOW})"
CHANGED_ROWS: Mapping[str, str] = MappingProxyType({
    **{table: f"_loaded_at > (SELECT changes_loaded_after FROM {BUILD_WINDOW})" for table in RAW_TABLES},
    # The customer-month marts are views over the *_stored tables (the dbt
    # models say why): publishing replaces the tables' rows; the checks read
    # the same rows through the views.
    "marts.fct_customer_month": _CHANGED_STORE_CUSTOMER_MONTHS,
    "marts.fct_customer_month_stored": _CHANGED_STORE_CUSTOMER_MONTHS,
    "marts.fct_group_customer_month": _CHANGED_GROUP_CUSTOMER_MONTHS,
    "marts.fct_group_customer_month_stored": _CHANGED_GROUP_CUSTOMER_MONTHS,
    "marts.kpi_churn_breakdown_month": _CHANGED_SCOPE_MONTHS,
    "marts.kpi_vehicle_age_churn_month": f"{_CHANGED_SCOPE_MONTHS} OR {_MONTHS_OF_THE_DATA_DATE}",
    "marts.churn_scores": f"(store_code, vin, month_end) IN (SELECT store_code, vin, month_end FROM {_CHANGED_SCORES})",
    "marts.churn_score_backtest": _CHANGED_SCORE_SCOPE_MONTHS,
    "marts.churn_score_calibration": _CHANGED_SCORE_SCOPE_MONTHS,
})

# Where the last build by change kept the rows of a mart that CHANGED_ROWS
# selects: the table its dbt model's `written_rows` config names (the rows
# that build inserted, exactly those). Reading them there spares a scan of
# the keys of all the mart's rows (20M at 100 stores) for the day's few.
WRITTEN_ROWS: Mapping[str, str] = MappingProxyType({
    "marts.fct_customer_month_stored": "intermediate.fct_customer_month_stored_written",
    "marts.fct_group_customer_month_stored": "intermediate.fct_group_customer_month_stored_written",
    "marts.churn_scores": "intermediate.int_churn_scores_written",
})


def row_ids_where(relation: str, condition: str) -> str:
    """The condition selecting the rows of the table `relation` that match
    `condition` (a CHANGED_ROWS condition) by row id: the condition reads its
    few columns, then only the matching rows are fetched. A plain filter
    read every column of every row of the 20M-row customer-month tables for
    the day's 25,000 changed rows of each (100 stores: 1.5 s warm, 0.4 s by
    row id). Tables only: a view has no row ids (expectations.changed_rows
    says what the checks do for one; the dbt macro rows_where does the same
    for the models)."""
    return f"rowid IN (SELECT rowid FROM {relation} WHERE {condition})"


def rows_where(relation: str, condition: str) -> str:
    """A query of the rows of the table `relation` that match `condition`, by row id (row_ids_where)."""
    return f"SELECT * FROM {relation} WHERE {row_ids_where(relation, condition)}"


# The working copy's relations a CHANGED_ROWS condition reads: those of
# schema intermediate it names, schema-qualified (group 1: the table). A copy
# evaluating a condition elsewhere (the PostgreSQL publish) brings them along.
CHANGED_ROWS_READS = re.compile(r"\bintermediate\.([A-Za-z_][A-Za-z0-9_]*)\b")
MART_TABLES: tuple[str, ...] = tuple(t for t in SUITES if t.startswith("marts."))


def checks_for(table: str) -> tuple[Check, ...]:
    """The checks of one table; KeyError naming the known tables otherwise."""
    try:
        return SUITES[table]
    except KeyError:
        raise KeyError(f"no expectation suite for table {table!r}; known: {', '.join(SUITES)}") from None


def critical_checks(table: str) -> tuple[Check, ...]:
    return tuple(c for c in checks_for(table) if c.critical)
