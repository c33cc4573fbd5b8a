"""Great Expectations layer: suites on raw and mart tables, the runner, Data Docs.

Builds small DuckDB warehouses in tmp dirs with the raw/mart shapes of the brief:
a clean one passes every suite; each broken copy changes one thing and must fail
naming that check and column. One clean warehouse per module; the GX import
(~6 s) is paid once per process.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import pytest

from expectations import suites
from expectations.runner import ValidationOutcome, validate_all, validate_table
from sources.contract import (
    AMOUNT,
    DATE,
    ENUM,
    ENUM_LIST,
    ENUMERATIONS,
    FLAG,
    INTEGER,
    LANDING_TABLES,
    NUMBER,
    TIMESTAMP,
)

PROJECT = Path(__file__).resolve().parents[1]

SQL_TYPES = {
    DATE: "DATE",
    TIMESTAMP: "TIMESTAMP",
    AMOUNT: "DECIMAL(18,2)",
    NUMBER: "DECIMAL(18,3)",
    INTEGER: "BIGINT",
    FLAG: "BOOLEAN",
}
METADATA_DDL = "_source_file VARCHAR, _line_number BIGINT, _drop_date DATE, _file_hash VARCHAR, _loaded_at TIMESTAMP"
VINS = ["LSVAB2BM5KN000001", "LSVAB2BM5KN000002", "LFV3A23C8L3000003"]


def _raw_value(table, col, i):
    """A valid value for row i of a raw table column."""
    if col.kind == ENUM:
        codes = list(ENUMERATIONS[col.enum])
        return codes[i % len(codes)]
    if col.kind == ENUM_LIST:
        return "price;distance" if i % 2 else "moved"
    if col.kind == DATE:
        return f"2024-0{1 + i % 9}-15"
    if col.kind == TIMESTAMP:
        return f"2024-0{1 + i % 9}-15 10:30:00"
    if col.kind == AMOUNT:
        return {"labor_amount": 100.0, "parts_amount": 200.5, "other_amount": 10.0,
                "discount_amount": 5.25, "total_amount": 305.25}.get(col.name, 50.0 + i)
    if col.kind == NUMBER:
        return 1.5
    if col.kind == INTEGER:
        return 10_000 * (i + 1) if "mileage" in col.name else i + 1
    if col.kind == FLAG:
        return i % 2 == 0
    if col.name == "vin":
        return VINS[i % len(VINS)]
    if col.name in ("store_code", "assigned_store_code"):
        return f"S{1 + i % 2}"
    return f"{col.name}-{i}"


def build_clean_warehouse(path: Path, rows: int = 3) -> None:
    con = duckdb.connect(str(path))
    try:
        con.execute("CREATE SCHEMA raw")
        con.execute("CREATE SCHEMA marts")
        for t in LANDING_TABLES:
            cols = ", ".join(f"{c.name} {SQL_TYPES.get(c.kind, 'VARCHAR')}" for c in t.columns)
            con.execute(f"CREATE TABLE raw.{t.name} ({cols}, {METADATA_DDL})")
            for i in range(rows):
                values = [_raw_value(t, c, i) for c in t.columns]
                meta = [f"{t.source}/S1/2024-01-15/{t.file_name}", i + 2,
                        None if not t.partitioned else "2024-01-15", "ab" * 32, "2024-01-16 01:00:00"]
                placeholders = ", ".join("?" for _ in values + meta)
                con.execute(f"INSERT INTO raw.{t.name} VALUES ({placeholders})", values + meta)
        con.execute("""
            CREATE TABLE marts.dim_stores AS SELECT * FROM (VALUES
              ('S1', 'Store one', 'BrandA', 'Hangzhou', 'Zhejiang', 'East', DATE '2015-05-01'),
              ('S2', 'Store two', 'BrandB', 'Suzhou', 'Jiangsu', 'East', DATE '2018-09-01'))
              t(store_code, store_name, brand, city, province, region, opened_on)""")
        con.execute("""
            CREATE TABLE marts.fct_customer_month AS
            SELECT store_code, vin, month_end::DATE AS month_end, month_end::DATE AS as_of_date,
                   'k_' || vin AS customer_key, 'BrandA' AS brand, 'M1' AS model,
                   visits::BIGINT AS visits, visits::BIGINT AS paid_visits,
                   (visits * 300)::DECIMAL(18,2) AS revenue, (visits * 100)::DECIMAL(18,2) AS labor_amount,
                   (visits * 200)::DECIMAL(18,2) AS parts_amount, (visits * 120)::DECIMAL(18,2) AS parts_cost,
                   DATE '2024-01-10' AS last_visit_date, 1200.00::DECIMAL(18,2) AS annual_spend,
                   churn_status, visits > 0 AS is_new, false AS is_won_back,
                   DATE '2024-07-10' AS mileage_due_date, false AS overdue_by_mileage,
                   false AS is_hidden_churn, loss_type
            FROM (VALUES
              ('S1', 'LSVAB2BM5KN000001', '2024-01-31', 1, 'active', NULL),
              ('S1', 'LSVAB2BM5KN000001', '2024-02-29', 0, 'active', NULL),
              ('S1', 'LSVAB2BM5KN000002', '2024-01-31', 1, 'at_risk', NULL),
              ('S2', 'LFV3A23C8L3000003', '2024-01-31', 0, 'churned', 'competitor'))
              t(store_code, vin, month_end, visits, churn_status, loss_type)""")
        con.execute("""
            CREATE TABLE marts.kpi_store_month AS
            SELECT store_code, month_end::DATE AS month_end, month_end::DATE AS as_of_date,
                   on_file::BIGINT AS on_file, active::BIGINT AS active, at_risk::BIGINT AS at_risk,
                   churned::BIGINT AS churned, (active + at_risk)::BIGINT AS base_customers,
                   1::BIGINT AS new_customers, 0::BIGINT AS won_back, 0::BIGINT AS hidden_churn,
                   churned / on_file AS churn_rate,
                   (churned * 1000)::DECIMAL(18,2) AS churned_annual_spend,
                   (on_file * 1000)::DECIMAL(18,2) AS on_file_annual_spend,
                   churned / on_file AS value_weighted_churn_rate,
                   cohort_size::BIGINT AS cohort_size, cohort_returned::BIGINT AS cohort_returned,
                   CASE WHEN cohort_size > 0 THEN 1 - cohort_returned / cohort_size END AS cohort_churn_rate,
                   CASE WHEN cohort_size > 0 THEN cohort_returned / cohort_size END AS cohort_retention_rate,
                   4::BIGINT AS visits, 3::BIGINT AS paid_visits, 900.00::DECIMAL(18,2) AS revenue,
                   300.00::DECIMAL(18,2) AS per_ticket_value, 300.00::DECIMAL(18,2) AS labor_amount,
                   600.00::DECIMAL(18,2) AS parts_amount, 2.0::DOUBLE AS labor_parts_ratio,
                   (1 / 3)::DOUBLE AS labor_share, 360.00::DECIMAL(18,2) AS parts_cost,
                   540.00::DECIMAL(18,2) AS gross_profit, 0.6::DOUBLE AS gross_margin,
                   0::BIGINT AS policies_expiring, 0::BIGINT AS policies_renewed,
                   NULL::DOUBLE AS renewal_rate, 1000.00::DECIMAL(18,2) AS value_at_risk,
                   churned::BIGINT AS newly_churned, 0::BIGINT AS churned_group_transfers,
                   churned::BIGINT AS churned_to_competitors, 0::BIGINT AS churned_natural,
                   0::BIGINT AS churned_insurer_assigned, 2::BIGINT AS surveys, 2::BIGINT AS reached_surveys,
                   1::BIGINT AS confirmed_lost, 0::BIGINT AS insurer_assigned_only,
                   0.5::DOUBLE AS confirmed_lost_rate, 0::BIGINT AS win_back_booked, 1::BIGINT AS win_back_eligible,
                   0::BIGINT AS won_back_after_survey, 1::BIGINT AS win_back_pending, 0.0::DOUBLE AS win_back_rate,
                   (churned * 1000)::DECIMAL(18,2) AS newly_churned_annual_spend,
                   (churned * 5000)::DECIMAL(18,2) AS lifetime_value_lost
            FROM (VALUES
              ('S1', '2024-01-31', 2, 1, 1, 0, 4, 3),
              ('S1', '2024-02-29', 2, 1, 1, 0, 0, 0),
              ('S2', '2024-01-31', 1, 0, 0, 1, 2, 1))
              t(store_code, month_end, on_file, active, at_risk, churned, cohort_size, cohort_returned)""")
    finally:
        con.close()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gx")


@pytest.fixture(scope="module")
def clean_warehouse(workdir) -> Path:
    path = workdir / "clean.duckdb"
    build_clean_warehouse(path)
    return path


# The hand-built warehouse holds the raw tables and the first three marts; the
# other marts are checked on the real pipeline's warehouse (the `demo_build` fixture).
HAND_BUILT = (*suites.RAW_TABLES, "marts.dim_stores", "marts.fct_customer_month", "marts.kpi_store_month")


@pytest.fixture(scope="module")
def clean_outcomes(clean_warehouse, workdir) -> dict[str, ValidationOutcome]:
    outcomes = validate_all(clean_warehouse, list(HAND_BUILT), workdir / "docs")
    return {o.table: o for o in outcomes}


def broken_copy(clean: Path, dest: Path, *statements: str) -> Path:
    shutil.copy(clean, dest)
    con = duckdb.connect(str(dest))
    try:
        for sql in statements:
            con.execute(sql)
    finally:
        con.close()
    return dest


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- suites


def test_every_raw_table_and_mart_has_a_suite():
    assert set(suites.RAW_TABLES) == {f"raw.{t.name}" for t in LANDING_TABLES}
    read_through_views = {table for tables in suites.VALIDATED_THROUGH_VIEWS.values() for table in tables}
    assert set(suites.MART_TABLES) | read_through_views == {
        f"marts.{p.stem}" for p in (Path(__file__).resolve().parent.parent / "dbt_project/models/marts").glob("*.sql")
    }
    assert set(suites.VALIDATED_THROUGH_VIEWS) <= set(suites.MART_TABLES)
    for table, checks in suites.SUITES.items():
        assert checks, table
        assert any(c.critical for c in checks), table


def test_enumerations_come_from_the_contract():
    ro = {c.name: c for c in suites.checks_for("raw.dms_repair_orders")}
    assert set(ro["in_set:payer"].kwargs["value_set"]) == set(ENUMERATIONS["payer"])
    assert set(ro["in_set:status"].kwargs["value_set"]) == set(ENUMERATIONS["ro_status"])
    assert ro["in_set:payer"].critical


def test_unknown_table_is_refused(clean_warehouse):
    with pytest.raises(KeyError, match="no expectation suite"):
        validate_table(clean_warehouse, "raw.nope")


def test_importing_the_runner_does_not_import_great_expectations():
    code = "import sys, expectations.runner, expectations.suites; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# --------------------------------------------------------------------------- clean run


def test_clean_warehouse_passes_every_suite(clean_outcomes):
    assert set(clean_outcomes) == set(HAND_BUILT)
    for table, outcome in clean_outcomes.items():
        assert outcome.success, outcome.summary()
        assert not outcome.critical_failed
        assert outcome.failed == []
        assert outcome.evaluated == len(suites.checks_for(table))
        assert outcome.row_count and outcome.row_count > 0


def test_data_docs_are_written(clean_outcomes, workdir):
    index = workdir / "docs" / "index.html"
    assert index.is_file()
    assert all(o.docs_index == index for o in clean_outcomes.values())
    html = index.read_text(encoding="utf-8")
    assert "kpi_store_month" in html
    assert list((workdir / "docs" / "validations").rglob("*.html"))


def test_runs_set_based_sql_on_duckdb(clean_outcomes):
    # Guards the private GX name the SQL route relies on (see expectations/gx_duckdb.py).
    import great_expectations.execution_engine.sqlalchemy_execution_engine as see

    assert any(getattr(d, "value", d) == "duckdb" for d in see._PERSISTED_CONNECTION_DIALECTS)
    assert see._dialect_requires_persisted_connection(connection_string="duckdb:///x.duckdb")


def test_columns_read_per_schema_are_those_reflected_per_table(clean_warehouse):
    """GX's inspector reads each schema's columns once (expectations/gx_duckdb.py):
    what it answers for every table is what SQLAlchemy reflects for that table alone."""
    import sqlalchemy as sa

    from expectations.gx_duckdb import _CatalogPerSchema

    engine = sa.create_engine(f"duckdb:///{clean_warehouse}", connect_args={"read_only": True})
    try:
        with engine.connect() as con:
            read: dict = {}
            per_schema = _CatalogPerSchema(sa.inspect(con), read)
            for table in HAND_BUILT:
                schema, name = table.split(".")
                alone = sa.inspect(con).get_columns(name, schema=schema)
                assert len(alone) > 1
                assert [(c["name"], str(c["type"]), c["nullable"]) for c in per_schema.get_columns(name, schema)] \
                    == [(c["name"], str(c["type"]), c["nullable"]) for c in alone], table
            assert set(read) == {"raw", "marts"}
    finally:
        engine.dispose()


def test_warehouse_is_read_only_and_released(clean_warehouse, workdir):
    before = _sha256(clean_warehouse)
    outcome = validate_table(clean_warehouse, "marts.dim_stores")
    assert outcome.success
    assert _sha256(clean_warehouse) == before
    # Every connection is closed: a writer in this process and in another one can open the file.
    duckdb.connect(str(clean_warehouse)).close()
    code = f"import duckdb; duckdb.connect({str(clean_warehouse)!r}).close(); print('ok')"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"


def test_a_locked_warehouse_raises(clean_warehouse, workdir):
    locked = workdir / "locked.duckdb"
    shutil.copy(clean_warehouse, locked)
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(f"""
            import duckdb, sys
            con = duckdb.connect({str(locked)!r})
            print('ready', flush=True)
            sys.stdin.read()
        """)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(duckdb.IOException, match="lock"):
            validate_table(locked, "marts.dim_stores")
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)


def test_missing_table_fails_critically(workdir):
    path = workdir / "empty.duckdb"
    duckdb.connect(str(path)).close()
    outcome = validate_table(path, "marts.kpi_store_month")
    assert not outcome.success and outcome.critical_failed
    assert outcome.failed_names == ["table_exists"]


def test_missing_file_raises(workdir):
    with pytest.raises(FileNotFoundError):
        validate_table(workdir / "nothing.duckdb", "marts.dim_stores")


# --------------------------------------------------------------------------- one break per case

CASES = {
    "duplicate_kpi_key": (
        "marts.kpi_store_month",
        ["INSERT INTO marts.kpi_store_month SELECT * FROM marts.kpi_store_month WHERE store_code = 'S2'"],
        "unique:store_code+month_end", "expect_compound_columns_to_be_unique", "store_code,month_end", True,
    ),
    "duplicate_fct_key": (
        "marts.fct_customer_month",
        ["INSERT INTO marts.fct_customer_month SELECT * FROM marts.fct_customer_month WHERE store_code = 'S2'"],
        "unique:store_code+vin+month_end", "expect_compound_columns_to_be_unique", "store_code,vin,month_end", True,
    ),
    "duplicate_store": (
        "marts.dim_stores",
        ["INSERT INTO marts.dim_stores SELECT * FROM marts.dim_stores WHERE store_code = 'S1'"],
        "unique:store_code", "expect_column_values_to_be_unique", "store_code", True,
    ),
    "duplicate_raw_line": (
        "raw.dms_customers",
        ["INSERT INTO raw.dms_customers SELECT * FROM raw.dms_customers LIMIT 1"],
        "unique:_source_file+_line_number", "expect_compound_columns_to_be_unique", "_source_file,_line_number", True,
    ),
    "null_key": (
        "raw.dms_repair_orders",
        ["UPDATE raw.dms_repair_orders SET ro_number = NULL WHERE _line_number = 2"],
        "not_null:ro_number", "expect_column_values_to_not_be_null", "ro_number", True,
    ),
    "unknown_enum": (
        "raw.dms_repair_orders",
        ["UPDATE raw.dms_repair_orders SET payer = '自费' WHERE _line_number = 2"],
        "in_set:payer", "expect_column_values_to_be_in_set", "payer", True,
    ),
    "unknown_enum_in_list": (
        "raw.survey_responses",
        ["UPDATE raw.survey_responses SET reasons = 'price;too_far' WHERE _line_number = 3"],
        "in_set:reasons", "unexpected_rows_expectation", "reasons", True,
    ),
    "negative_amount": (
        "raw.insurance_claims",
        ["UPDATE raw.insurance_claims SET claim_amount = -1.00 WHERE _line_number = 2"],
        "non_negative:claim_amount", "expect_column_values_to_be_between", "claim_amount", True,
    ),
    "total_mismatch_by_0_02": (
        "raw.dms_repair_orders",
        ["UPDATE raw.dms_repair_orders SET total_amount = total_amount + 0.02 WHERE _line_number = 3"],
        "total_matches_components", "unexpected_rows_expectation", "total_amount", False,
    ),
    "vin_with_letter_o": (
        "raw.dms_vehicles",
        ["UPDATE raw.dms_vehicles SET vin = 'LSVAB2BM5KNO00001' WHERE _line_number = 2"],
        "vin_charset", "unexpected_rows_expectation", "vin", False,
    ),
    "vin_too_short": (
        "raw.insurance_policies",
        ["UPDATE raw.insurance_policies SET vin = 'LSVAB2BM5KN00001' WHERE _line_number = 2"],
        "vin_length", "expect_column_value_lengths_to_equal", "vin", False,
    ),
    "rate_1_2": (
        "marts.kpi_store_month",
        ["UPDATE marts.kpi_store_month SET churn_rate = 1.2 WHERE store_code = 'S2'"],
        "rate_between_0_1:churn_rate", "expect_column_values_to_be_between", "churn_rate", True,
    ),
    "status_counts_do_not_sum_to_on_file": (
        "marts.kpi_store_month",
        ["UPDATE marts.kpi_store_month SET on_file = on_file + 1, churn_rate = churned / (on_file + 1), "
         "value_weighted_churn_rate = churned / (on_file + 1) WHERE store_code = 'S2'"],
        "status_counts_sum_to_on_file", "unexpected_rows_expectation", "on_file", True,
    ),
    "base_is_not_active_plus_at_risk": (
        "marts.kpi_store_month",
        ["UPDATE marts.kpi_store_month SET base_customers = 5 WHERE month_end = DATE '2024-02-29'"],
        "base_is_active_plus_at_risk", "unexpected_rows_expectation", "base_customers", True,
    ),
    "cohort_returned_above_size": (
        "marts.kpi_store_month",
        ["UPDATE marts.kpi_store_month SET cohort_returned = 5, cohort_churn_rate = 0, "
         "cohort_retention_rate = 1 WHERE store_code = 'S2'"],
        "cohort_returned_le_cohort_size", "expect_column_pair_values_a_to_be_greater_than_b", "cohort_returned", True,
    ),
    "negative_count": (
        "marts.kpi_store_month",
        ["UPDATE marts.kpi_store_month SET won_back = -1 WHERE store_code = 'S2'"],
        "non_negative:won_back", "expect_column_values_to_be_between", "won_back", True,
    ),
    "unknown_churn_status": (
        "marts.fct_customer_month",
        ["UPDATE marts.fct_customer_month SET churn_status = 'lost' WHERE store_code = 'S2'"],
        "in_set:churn_status", "expect_column_values_to_be_in_set", "churn_status", True,
    ),
    "unknown_loss_type": (
        "marts.fct_customer_month",
        ["UPDATE marts.fct_customer_month SET loss_type = 'moved' WHERE store_code = 'S2'"],
        "in_set:loss_type", "expect_column_values_to_be_in_set", "loss_type", True,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_one_break_fails_naming_the_check_and_column(case, clean_warehouse, clean_outcomes, tmp_path):
    table, statements, name, expectation, column, critical = CASES[case]
    assert clean_outcomes[table].success  # the same table passes before the break
    path = broken_copy(clean_warehouse, tmp_path / f"{case}.duckdb", *statements)

    outcome = validate_table(path, table)

    assert not outcome.success
    assert outcome.failed_names == [name], outcome.summary()  # exactly the broken check
    failure = outcome.failed[0]
    assert failure.expectation == expectation
    assert failure.column == column
    assert failure.critical is critical
    assert outcome.critical_failed is critical
    assert failure.exception is None
    assert failure.unexpected_count and failure.unexpected_count >= 1
    assert failure.examples, failure
    assert name in outcome.summary() and column in outcome.summary()


def test_examples_show_the_offending_values(clean_warehouse, tmp_path):
    path = broken_copy(
        clean_warehouse, tmp_path / "w.duckdb",
        "UPDATE raw.dms_repair_orders SET payer = 'cash' WHERE _line_number = 2",
        "UPDATE raw.dms_repair_orders SET total_amount = total_amount + 0.02 WHERE _line_number = 3",
    )
    outcome = validate_table(path, "raw.dms_repair_orders")
    assert outcome.critical_failed
    assert outcome.failed_names == ["in_set:payer", "total_matches_components"]  # critical first
    assert outcome.failure("in_set:payer").examples == ["cash"]
    (row,) = outcome.failure("total_matches_components").examples
    assert row["total_amount"] == pytest.approx(row["expected_total"] + 0.02)
    assert outcome.to_dict()["failed"][1]["examples"][0]["ro_number"] == row["ro_number"]


def test_a_missing_column_is_reported_not_raised(clean_warehouse, tmp_path):
    path = broken_copy(clean_warehouse, tmp_path / "w.duckdb", "ALTER TABLE marts.dim_stores DROP COLUMN region")
    outcome = validate_table(path, "marts.dim_stores")
    assert outcome.critical_failed
    failure = outcome.failure("columns_present")
    assert failure is not None and "region" in repr(failure.observed)


def test_validate_all_mixes_good_bad_and_missing_tables(clean_warehouse, tmp_path):
    path = broken_copy(clean_warehouse, tmp_path / "w.duckdb", "DROP TABLE marts.fct_customer_month",
                       "UPDATE marts.kpi_store_month SET renewal_rate = 1.2")
    docs = tmp_path / "docs"
    outcomes = validate_all(path, ["marts.dim_stores", "marts.fct_customer_month", "marts.kpi_store_month"], docs)
    assert [o.table for o in outcomes] == ["marts.dim_stores", "marts.fct_customer_month", "marts.kpi_store_month"]
    assert [o.success for o in outcomes] == [True, False, False]
    assert outcomes[1].failed_names == ["table_exists"]
    assert outcomes[2].failed_names == ["rate_between_0_1:renewal_rate"]
    assert (docs / "index.html").is_file()


def test_null_counts_are_named(clean_warehouse, tmp_path):
    path = broken_copy(clean_warehouse, tmp_path / "w.duckdb",
                       "UPDATE marts.kpi_store_month SET won_back = NULL, visits = NULL WHERE store_code = 'S2'")
    outcome = validate_table(path, "marts.kpi_store_month")
    assert outcome.critical_failed
    assert outcome.failed_names == ["counts_not_null"]
    assert outcome.failed[0].examples == [
        {"store_code": "S2", "month_end": "2024-01-31", "null_columns": "won_back,visits"}
    ]


def test_no_network_calls(clean_warehouse, tmp_path, monkeypatch):
    import socket

    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    outcome = validate_table(clean_warehouse, "raw.dms_repair_orders", docs_dir=tmp_path / "docs")
    assert outcome.success and outcome.docs_index == tmp_path / "docs" / "index.html"
    assert attempts == []


def test_checks_on_a_dropped_column_report_the_error(clean_warehouse, tmp_path):
    path = broken_copy(clean_warehouse, tmp_path / "w.duckdb", "ALTER TABLE marts.kpi_store_month DROP COLUMN won_back")
    outcome = validate_table(path, "marts.kpi_store_month")
    assert outcome.critical_failed
    assert outcome.failure("columns_present").observed == {"missing": ["won_back"]}
    for name in ("counts_not_null", "non_negative:won_back"):
        failure = outcome.failure(name)
        assert failure is not None and failure.exception and "won_back" in failure.exception, failure


# --------------------------------------------------------------------------- the real marts

NEW_MART_CASES = {
    "breakdown_statuses_do_not_sum": (
        "marts.kpi_churn_breakdown_month",
        "UPDATE marts.kpi_churn_breakdown_month SET active = active + 1 "
        "WHERE dimension = 'gender' AND scope_level = 'group'",
        "statuses_sum_to_on_file",
    ),
    "unmasked_phone_on_the_call_list": (
        "marts.call_list",
        "UPDATE marts.call_list SET phone_masked = '13812345678' WHERE call_rank = 1",
        "phone_is_masked",
    ),
    "vehicle_age_churned_above_vehicles": (
        "marts.kpi_vehicle_age_churn_month",
        "UPDATE marts.kpi_vehicle_age_churn_month SET churned = vehicles_on_file + 1 WHERE within_years = 3",
        "churned_le_vehicles",
    ),
    "duplicate_scope_month": (
        "marts.kpi_scope_month",
        "INSERT INTO marts.kpi_scope_month SELECT * FROM marts.kpi_scope_month WHERE scope_level = 'group'",
        "unique:scope_level+scope_code+month_end",
    ),
}


@pytest.fixture(scope="module")
def pipeline_outcomes(demo_build, workdir) -> dict[str, ValidationOutcome]:
    """Every mart suite on the warehouse `aftersales run` built from a generated landing."""
    outcomes = validate_all(demo_build.warehouse, list(suites.MART_TABLES), workdir / "pipeline_docs")
    return {o.table: o for o in outcomes}


def test_the_pipelines_marts_pass_every_mart_suite(pipeline_outcomes):
    assert set(pipeline_outcomes) == set(suites.MART_TABLES)
    for table, outcome in pipeline_outcomes.items():
        assert outcome.success, outcome.summary()
        assert outcome.evaluated == len(suites.checks_for(table))
        # the data-quality marts are empty when no row or file was bad, as in the demo landing
        if table not in ("marts.data_quality_quarantine", "marts.data_quality_rejected_files"):
            assert outcome.row_count and outcome.row_count > 0, table


@pytest.mark.parametrize("case", list(NEW_MART_CASES))
def test_one_break_of_a_roll_up_mart_fails_its_check(case, demo_build, pipeline_outcomes, tmp_path):
    table, statement, name = NEW_MART_CASES[case]
    assert pipeline_outcomes[table].success
    path = broken_copy(demo_build.warehouse, tmp_path / f"{case}.duckdb", statement)
    outcome = validate_table(path, table)
    assert outcome.failed_names == [name], outcome.summary()
    assert outcome.critical_failed
