"""The mart tables the dashboards read, as the published interface names them
(SPEC section 10, docs/helper_brief.md): columns and DuckDB types.

dbt builds the real tables; this module only serves the dashboards' checks
(a clear error when the marts are missing), the tests and the synthetic
sample warehouse (``dashboards.sample_marts``) used to preview the pages.
"""

from __future__ import annotations

MONEY = "DECIMAL(18,2)"

MART_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "dim_stores": [
        ("store_code", "VARCHAR"),
        ("store_name", "VARCHAR"),
        ("brand", "VARCHAR"),
        ("city", "VARCHAR"),
        ("province", "VARCHAR"),
        ("region", "VARCHAR"),
        ("opened_on", "DATE"),
    ],
    "fct_customer_month": [
        ("store_code", "VARCHAR"),
        ("vin", "VARCHAR"),
        ("month_end", "DATE"),
        ("as_of_date", "DATE"),
        ("customer_key", "VARCHAR"),
        ("brand", "VARCHAR"),
        ("model", "VARCHAR"),
        ("visits", "BIGINT"),
        ("paid_visits", "BIGINT"),
        ("revenue", MONEY),
        ("labor_amount", MONEY),
        ("parts_amount", MONEY),
        ("parts_cost", MONEY),
        ("last_visit_date", "DATE"),
        ("annual_spend", MONEY),
        ("churn_status", "VARCHAR"),
        ("is_new", "BOOLEAN"),
        ("is_won_back", "BOOLEAN"),
        ("mileage_due_date", "DATE"),
        ("overdue_by_mileage", "BOOLEAN"),
        ("is_hidden_churn", "BOOLEAN"),
        ("loss_type", "VARCHAR"),
    ],
    "kpi_store_month": [
        ("store_code", "VARCHAR"),
        ("month_end", "DATE"),
        ("as_of_date", "DATE"),
        ("on_file", "BIGINT"),
        ("active", "BIGINT"),
        ("at_risk", "BIGINT"),
        ("churned", "BIGINT"),
        ("base_customers", "BIGINT"),
        ("new_customers", "BIGINT"),
        ("won_back", "BIGINT"),
        ("hidden_churn", "BIGINT"),
        ("churn_rate", "DOUBLE"),
        ("churned_annual_spend", MONEY),
        ("on_file_annual_spend", MONEY),
        ("value_weighted_churn_rate", "DOUBLE"),
        ("cohort_size", "BIGINT"),
        ("cohort_returned", "BIGINT"),
        ("cohort_churn_rate", "DOUBLE"),
        ("cohort_retention_rate", "DOUBLE"),
        ("visits", "BIGINT"),
        ("paid_visits", "BIGINT"),
        ("revenue", MONEY),
        ("per_ticket_value", MONEY),
        ("labor_amount", MONEY),
        ("parts_amount", MONEY),
        ("labor_parts_ratio", "DOUBLE"),
        ("labor_share", "DOUBLE"),
        ("parts_cost", MONEY),
        ("gross_profit", MONEY),
        ("gross_margin", "DOUBLE"),
        ("policies_expiring", "BIGINT"),
        ("policies_renewed", "BIGINT"),
        ("renewal_rate", "DOUBLE"),
        ("value_at_risk", MONEY),
    ],
}


def create_table_sql(table: str) -> str:
    cols = ",\n    ".join(f"{name} {type_}" for name, type_ in MART_COLUMNS[table])
    return f"create table marts.{table} (\n    {cols}\n)"


def create_mart_tables(con) -> None:
    """Create empty marts.* tables with the published columns (tests, samples)."""
    con.execute("create schema if not exists marts")
    for table in MART_COLUMNS:
        con.execute(create_table_sql(table))
