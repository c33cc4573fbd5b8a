"""Bad input through the real pipeline (SPEC section 4, issue "Trustworthy
daily operations"): `aftersales run`, as a subprocess, over a landing with a
GB18030 file with Chinese headers, a file missing a required column, a binary
file, rows with every kind of row problem, a duplicate re-delivery and a drop
that arrives out of order. The run fails visibly, naming the files and the
failed store/dates, and still builds and publishes every store; nothing is
lost (quarantine, rows reconciled), nothing is double counted, the landing is
not touched, and the marts equal an independent computation.

The landing is the hand landing (tests/fixtures/hand_landing) copied into a
temporary folder and extended here, in code, rather than a committed fixture
folder: the bad bytes (a binary file, GB18030 text) and the exact line of each
bad row are written out below where the assertions can see them, and S1 and
S2, whose added files are all rejected, must come out equal to the session's
clean run of the hand landing (`hand_run`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import HAND_KEY, HAND_LANDING
from independent import Landing

from orchestration import settings
from sources.contract import CUSTOMERS, REPAIR_ORDERS, VEHICLES

GB_FILE = "dms/S3/2024-07-10/repair_orders.csv"  # GB18030, Chinese headers and enumerations
LATE_DROP = "dms/S3/2024-07-05"  # arrives in the second run, after later days were loaded
DUPLICATE = ("dms/S3/2024-07-12/repair_orders.csv", "dms/S3/2024-07-20/repair_orders.csv")  # same bytes
MISSING_COLUMN = "survey/S2/2024-07-22/responses.csv"
BINARY = "insurance/S1/2024-07-25/claims.csv"
HEADERLESS = "dms/S3/2024-07-12/customers.csv"  # delivered without its header: a customer's row comes first
CUSTOMERS_FILE = "dms/S3/2024-07-10/customers.csv"
PRIVATE_BIRTH_DATE = "1985-13-45"  # quarantined: unparseable; a birth date stays in raw (SPEC section 9)

V1, V2, V3 = "LSVS3000000000001", "LSVS3000000000002", "LSVS3000000000003"

RO_COLUMNS = [c.name for c in REPAIR_ORDERS.columns]


def _ro(number, vin, opened, closed, mileage, service, payer, labor, parts, total, updated, customer="C31"):
    values = dict(ro_number=number, store_code="S3", customer_id=customer, vin=vin, opened_at=opened,
                  closed_at=closed, mileage_km=mileage, service_type=service, payer=payer, labor_amount=labor,
                  parts_amount=parts, other_amount="0.00", discount_amount="0.00", total_amount=total,
                  parts_cost="50.00", advisor_code="SA1", status="已结算", claim_no="", updated_at=updated)
    return ",".join(values[c] for c in RO_COLUMNS)


GOOD_ROWS = [  # lines 2 and 3 of GB_FILE
    _ro("S3-R1", V1, "2024-07-10 09:00:00", "2024-07-10 11:00:00", "15000", "保养", "自费",
        "100.00", "200.00", "300.00", "2024-07-10 11:00:00"),
    _ro("S3-R2", V2, "2024-07-10 10:00:00", "2024-07-10 16:00:00", "32000", "机修", "保险",
        "400.00", "600.00", "1000.00", "2024-07-10 16:00:00", customer="C32"),
]
# line -> (bad row, the value-free reason of marts.data_quality_quarantine, a fragment of raw.quarantine's reason).
# All on V3, whose only good visit is on another day: a bad row that got through would add a visit.
BAD_ROWS = {
    4: (_ro("S3-B4", V3, "2024-07-10 09:00:00", "2024-07-10 10:00:00", "abc", "保养", "自费",
            "100.00", "0.00", "100.00", "2024-07-10 10:00:00", customer="C33"),
        "mileage_km: unparseable value", "mileage_km: cannot read 'abc'"),
    5: (_ro("S3-B5", V3, "2024-07-10 09:00:00", "2024-07-10 10:00:00", "", "洗车", "自费",
            "100.00", "0.00", "100.00", "2024-07-10 10:00:00", customer="C33"),
        "service_type: unknown enumeration", "service_type: cannot read '洗车'"),
    6: (_ro("S3-B6", V3, "2024-07-10 09:00:00", "2024-07-10 10:00:00", "", "保养", "自费",
            "-10.00", "200.00", "190.00", "2024-07-10 10:00:00", customer="C33"),
        "labor_amount: negative amount", "labor_amount: negative amount -10.00"),
    7: (_ro("S3-B7", "LSVS300000000000I", "2024-07-10 09:00:00", "2024-07-10 10:00:00", "", "保养", "自费",
            "100.00", "0.00", "100.00", "2024-07-10 10:00:00", customer="C33"),
        "vin: invalid VIN", "vin: invalid VIN 'LSVS300000000000I'"),
    8: (_ro("S3-B8", V3, "2024-07-10 09:00:00", "2024-07-10 10:00:00", "", "保养", "自费",
            "100.00", "0.00", "999.00", "2024-07-10 10:00:00", customer="C33"),
        "total_amount: total mismatch", "total_amount: 999.00 <> labor + parts + other - discount = 100.00"),
    9: (_ro("S3-B9", V3, "2024-07-10 09:00:00", "2024-07-10 10:00:00", "", "保养", "自费",
            "100.00", "0.00", "100.00", "2024-07-12 08:00:00", customer="C33"),
        "updated_at: date after the drop date", "is after the drop date 2024-07-10"),
}


def _csv(columns, rows) -> str:
    return "\n".join([",".join(columns), *rows]) + "\n"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def build_bad_landing(landing: Path) -> Path:
    """The hand landing plus store S3 and the bad files; returns the held-back late drop folder."""
    shutil.copytree(HAND_LANDING, landing)
    stores = landing / "reference/stores.csv"
    stores.write_bytes(stores.read_bytes() + "S3,手算测试三店,TestBrandA,上海,上海,华东,2021-03-01\n".encode())
    zh = lambda table: [c.zh for c in table.columns]  # noqa: E731
    customers = [
        f"{cid},S3,{name},{phone},男,1985/03/0{i},engineer,个人,浦东新区,上海,2024/07/10 08:00:00,2024/07/10 08:00:00"
        for i, (cid, name, phone) in enumerate(
            [("C31", "钱一", "13900003101"), ("C32", "钱二", "13900003102"), ("C33", "钱三", "13900003103")], 1)
    ] + [f"C34,S3,钱四,13900003104,女,{PRIVATE_BIRTH_DATE},teacher,个人,浦东新区,上海,"
         "2024/07/10 08:00:00,2024/07/10 08:00:00"]  # line 5: quarantined
    vehicles = [
        f"{vin},S3,{cid},沪C3000{i},TestBrandA,Sedan A1,2021,2021/05/0{i},是,2024/07/10 08:00:00"
        for i, (vin, cid) in enumerate([(V1, "C31"), (V2, "C32"), (V3, "C33")], 1)
    ]
    day = landing / "dms/S3/2024-07-10"
    _write(day / "customers.csv", _csv(zh(CUSTOMERS), customers).encode("gb18030"))
    _write(day / "vehicles.csv", _csv(zh(VEHICLES), vehicles).encode("gb18030"))
    ro_rows = GOOD_ROWS + [BAD_ROWS[line][0] for line in sorted(BAD_ROWS)]
    _write(landing / GB_FILE, _csv(zh(REPAIR_ORDERS), ro_rows).encode("gb18030"))
    # A clean file and its duplicate re-delivery under a later drop date.
    r5 = _ro("S3-R5", V1, "2024-07-12 09:00:00", "2024-07-12 12:00:00", "15600", "repair", "customer",
             "80.00", "20.00", "100.00", "2024-07-12 12:00:00").replace("已结算", "closed")
    for path in DUPLICATE:
        _write(landing / path, _csv(RO_COLUMNS, [r5]).encode())
    # The out-of-order drop: an older date than the days the first run loads.
    r0 = _ro("S3-R0", V3, "2024-07-05 09:00:00", "2024-07-05 10:30:00", "8000", "maintenance", "customer",
             "150.00", "250.00", "400.00", "2024-07-05 10:30:00", customer="C33").replace("已结算", "closed")
    _write(landing / LATE_DROP / "repair_orders.csv", _csv(RO_COLUMNS, [r0]).encode())
    # File problems: a missing required column, a binary file, a file without its header.
    _write(landing / HEADERLESS, "C35,S3,孙五,13900003105,M,1990-01-01,,individual,,上海,"
                                 "2024-07-12 08:00:00,2024-07-12 08:00:00\n".encode())
    _write(landing / MISSING_COLUMN,
           b"response_id,store_code,customer_id,surveyed_at,method\nQ9,S2,C2001,2024-07-22 10:00:00,phone\n")
    _write(landing / BINARY, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    return landing / LATE_DROP


def _hashes(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _run(landing: Path, warehouse: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", "--landing", str(landing), "--warehouse", str(warehouse),
         "--dashboards", str(warehouse.parent / "dashboards"), "--data-docs", str(warehouse.parent / "data_docs")],
        capture_output=True, text=True,
        env={**os.environ, settings.PSEUDONYM_KEY_ENV: HAND_KEY},
    )


@dataclass(frozen=True)
class BadRuns:
    root: Path
    landing: Path
    warehouse: Path
    first: subprocess.CompletedProcess
    second: subprocess.CompletedProcess
    s3_first_run: list  # (month_end, visits, revenue) of S3 after the first run
    hashes: list  # the landing's file hashes: before run 1, after run 1, before run 2, after run 2


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory, hand_run) -> BadRuns:
    """Two runs: the first without the late drop, the second after it arrived
    and the GB18030 file was delivered again, same bytes, at the same path.
    They start from the warehouse of the clean hand landing (the session's
    `hand_run`, published and working copy), as a daily run starts from
    yesterday's: the hand landing's files are unchanged, so each run covers
    only the drop dates with new files (and costs a minute, not two)."""
    from orchestration.publish import working_copy_path

    root = tmp_path_factory.mktemp("bad_input")
    landing, warehouse = root / "landing", root / "warehouse.duckdb"
    shutil.copyfile(hand_run[0], warehouse)
    shutil.copyfile(working_copy_path(hand_run[0]), working_copy_path(warehouse))
    late = build_bad_landing(landing)
    held = root / "held_back"
    late.rename(held)
    hashes = [_hashes(landing)]
    first = _run(landing, warehouse)
    hashes.append(_hashes(landing))
    with duckdb.connect(str(warehouse), read_only=True) as con:
        s3 = con.execute("select month_end, visits, revenue from marts.kpi_store_month "
                         "where store_code = 'S3' order by month_end").fetchall()
    held.rename(late)
    again = landing / GB_FILE
    again.write_bytes(again.read_bytes())  # re-delivered: same bytes, a new modification time
    hashes.append(_hashes(landing))
    second = _run(landing, warehouse)
    hashes.append(_hashes(landing))
    return BadRuns(root, landing, warehouse, first, second, s3, hashes)


def _clean_copy(landing: Path, target: Path) -> Path:
    """The landing as it would be with no bad input: without the rejected files and the bad rows."""
    shutil.copytree(landing, target)
    (target / MISSING_COLUMN).unlink()
    (target / BINARY).unlink()
    (target / HEADERLESS).unlink()
    customers = (target / CUSTOMERS_FILE).read_bytes().decode("gb18030").splitlines()
    (target / CUSTOMERS_FILE).write_bytes(("\n".join(customers[:4]) + "\n").encode("gb18030"))
    text = (target / GB_FILE).read_bytes().decode("gb18030").splitlines()
    (target / GB_FILE).write_bytes(("\n".join(text[:3]) + "\n").encode("gb18030"))
    return target


def _failed_checks(out: str) -> list[str]:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  failed checks ("))
    failed = []
    for line in lines[start + 1:]:
        if not line.startswith("    - "):
            break
        failed.append(line.removeprefix("    - "))
    return failed


def test_the_run_fails_visibly_naming_each_rejected_file_and_the_failed_store_dates(bad_runs):
    for run in (bad_runs.first, bad_runs.second):
        out = run.stdout
        assert run.returncode == 1, out + run.stderr
        assert "aftersales run: FAILED" in out
        assert "rejected     3 files; failed store/date: S1 2024-07-25, S2 2024-07-22, S3 2024-07-12" in out
        assert f"- {HEADERLESS}: not a customers.csv file: no known column in header" in out
        assert f"- {MISSING_COLUMN}: missing required column(s): vin, reached, updated_at" in out
        assert f"- {BINARY}: not a CSV text file (binary content: NUL bytes)" in out
        # the rejected files are the failed checks: the rows reconcile, the critical expectations hold
        assert _failed_checks(out) == ["raw/dms_customers: files_accepted", "raw/insurance_claims: files_accepted",
                                       "raw/survey_responses: files_accepted"], out
        # rejected files fail the run; they do not stop the publish of everything else
        assert "(published;" in out, out
    assert "quarantined  7 rows (table raw.quarantine)" in bad_runs.first.stdout
    assert "quarantined  0 rows (table raw.quarantine)" in bad_runs.second.stdout
    # the first run loads only the new files; the second only the late drop (the same bytes at the
    # same path are not loaded again)
    assert "run covers drop dates 2024-07-10 .. 2024-07-25" in bad_runs.first.stdout
    assert "loaded       6 files, 13 rows" in bad_runs.first.stdout
    assert "loaded       1 files, 1 rows" in bad_runs.second.stdout
    assert "run covers drop dates 2024-07-05 .. 2024-07-25" in bad_runs.second.stdout


def test_raw_files_are_never_modified(bad_runs):
    before_first, after_first, before_second, after_second = bad_runs.hashes
    assert after_first == before_first
    assert after_second == before_second
    assert len(after_second) == len(after_first) + 1  # the late drop


def test_every_bad_row_is_in_quarantine_with_its_file_line_raw_line_and_reason(bad_runs):
    with duckdb.connect(str(working_copy(bad_runs)), read_only=True) as con:
        rows = con.execute("select source_file, line_number, raw_line, reason, store_code, drop_date "
                           "from raw.quarantine order by source_file, line_number").fetchall()
        loaded = con.execute("select ro_number from raw.dms_repair_orders where store_code = 'S3' "
                             "order by ro_number").fetchall()
    assert [(r[0], r[1]) for r in rows] == [(CUSTOMERS_FILE, 5)] + [(GB_FILE, line) for line in sorted(BAD_ROWS)]
    customer = rows.pop(0)
    assert customer[2].startswith("C34,S3,钱四,") and f"birth_date: cannot read '{PRIVATE_BIRTH_DATE}'" in customer[3]
    for source_file, line, raw_line, reason, store, drop_date in rows:
        bad_row, _, fragment = BAD_ROWS[line]
        assert raw_line == bad_row  # the delivered line, decoded from GB18030
        assert fragment in reason, (line, reason)
        assert (store, drop_date) == ("S3", dt.date(2024, 7, 10))
    # the good rows of that file, the clean file once though delivered twice, and the late drop
    assert loaded == [("S3-R0",), ("S3-R1",), ("S3-R2",), ("S3-R5",), ("S3-R5",)]


def working_copy(bad_runs: BadRuns) -> Path:
    from orchestration.publish import working_copy_path

    return working_copy_path(bad_runs.warehouse)


def test_rows_reconcile_for_every_loaded_file_and_the_check_fails_when_one_is_lost(bad_runs, tmp_path):
    from orchestration.assets.raw import rows_reconciled_result

    with duckdb.connect(str(working_copy(bad_runs)), read_only=True) as con:
        check = rows_reconciled_result(con)
        (read, loaded, quarantined), = con.execute(
            "select rows_read, rows_loaded, rows_quarantined from raw.load_log where source_file = ?", [GB_FILE]
        ).fetchall()
    assert check.passed, check.metadata
    assert check.metadata["files_checked"].value > 100
    assert (read, loaded, quarantined) == (8, 2, 6)
    broken = tmp_path / "broken.duckdb"
    shutil.copyfile(working_copy(bad_runs), broken)
    with duckdb.connect(str(broken)) as con:
        con.execute("delete from raw.dms_repair_orders where ro_number = 'S3-R2'")
        check = rows_reconciled_result(con)
    assert not check.passed and check.severity.value == "ERROR"
    assert check.metadata["unreconciled"].value == f"{GB_FILE}: 8 rows read <> 1 in raw + 6 in raw.quarantine"


def _store_rows(warehouse: Path, table: str, stores: tuple[str, ...]) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        cols = [c for (c,) in con.execute(
            "select column_name from duckdb_columns() where schema_name = 'marts' and table_name = ? "
            "and column_name <> 'last_loaded_at' order by column_index", [table]).fetchall()]
        select = ", ".join(f'"{c}"' for c in cols)
        return con.execute(f"select {select} from marts.{table} where store_code in {stores!r} "
                           f"order by all").fetchall()


def test_every_other_store_is_built_and_published_as_if_nothing_went_wrong(bad_runs, hand_run):
    """S1 and S2, whose added files were all rejected, have the marts of the clean hand landing."""
    for table in ("kpi_store_month", "fct_customer_month"):
        got = _store_rows(bad_runs.warehouse, table, ("S1", "S2"))
        assert got and got == _store_rows(hand_run[0], table, ("S1", "S2")), table
    with duckdb.connect(str(bad_runs.warehouse), read_only=True) as con:
        stores = con.execute("select distinct store_code from marts.kpi_store_month order by 1").fetchall()
    assert stores == [("S1",), ("S2",), ("S3",)]


def test_the_marts_equal_an_independent_computation_without_the_bad_input(bad_runs, tmp_path):
    model = Landing(_clean_copy(bad_runs.landing, tmp_path / "clean"))
    visits, paid, revenue = defaultdict(int), defaultdict(int), defaultdict(Decimal)
    for (store, _), customer in model.customers.items():
        for day, v in customer.days.items():
            key = (store, (day.year, day.month))
            visits[key] += 1
            paid[key] += v.paid
            revenue[key] += v.revenue
    with duckdb.connect(str(bad_runs.warehouse), read_only=True) as con:
        rows = con.execute("select store_code, month_end, visits, paid_visits, revenue "
                           "from marts.kpi_store_month").fetchall()
        as_of = con.execute("select max(as_of_date) from marts.kpi_store_month").fetchone()[0]
        status = con.execute("select store_code, on_file, active, at_risk, churned from marts.kpi_store_month "
                             "where as_of_date = ? order by store_code", [as_of]).fetchall()
    for store, month_end, n_visits, n_paid, money in rows:
        key = (store, (month_end.year, month_end.month))
        assert (n_visits, n_paid, money) == (visits.get(key, 0), paid.get(key, 0), revenue.get(key, Decimal("0"))), key
    assert sum(r[2] for r in rows) == sum(visits.values())
    # S3 in July: R0 (the late drop), R1, R2 and R5 (delivered twice, counted once); no bad row
    assert visits[("S3", (2024, 7))] == 4 and revenue[("S3", (2024, 7))] == Decimal("1800.00")
    expected = defaultdict(lambda: [0, 0, 0, 0])
    for store, vin in model.customers:
        expected[store][0] += 1
        expected[store][1 + ("active", "at_risk", "churned").index(model.store_status(store, vin, as_of))] += 1
    assert status == [(store, *expected[store]) for store in sorted(expected)]
    # before the late drop arrived, S3's July had the three other visits
    assert bad_runs.s3_first_run == [(dt.date(2024, 7, 31), 3, Decimal("1400.00"))]


def test_the_data_quality_marts_and_the_validation_results_are_published(bad_runs):
    with duckdb.connect(str(bad_runs.warehouse), read_only=True) as con:
        quarantine = con.execute(
            "select store_code, source, table_name, drop_date, reason, rows, files "
            "from marts.data_quality_quarantine order by reason").fetchall()
        rejected = con.execute(
            "select source_file, store_code, source, table_name, drop_date, reason, kept_earlier_version, "
            "logged_at is not null from marts.data_quality_rejected_files order by source_file").fetchall()
        results = con.execute(
            "select table_name, expectations_evaluated, expectations_failed, success, critical_failed, "
            "failed_expectations, validated_at from ops.validation_results").fetchall()
    assert quarantine == sorted(
        [("S3", "dms", "dms_repair_orders", dt.date(2024, 7, 10), reason, 1, 1) for _, reason, _ in BAD_ROWS.values()]
        + [("S3", "dms", "dms_customers", dt.date(2024, 7, 10), "birth_date: unparseable value", 1, 1)],
        key=lambda r: r[4])
    assert rejected == [
        (HEADERLESS, "S3", "dms", "dms_customers", dt.date(2024, 7, 12),
         "not a customers.csv file: no known column in its header", False, True),
        (BINARY, "S1", "insurance", "insurance_claims", dt.date(2024, 7, 25),
         "not a CSV text file (binary content: NUL bytes)", False, True),
        (MISSING_COLUMN, "S2", "survey", "survey_responses", dt.date(2024, 7, 22),
         "missing required column(s): vin, reached, updated_at", False, True),
    ]
    from expectations.suites import SUITES

    assert sorted(r[0] for r in results) == sorted(SUITES)
    assert len({r[6] for r in results}) == 1  # one validation: the one that let this build through
    assert not any(r[4] for r in results)  # no critical failure, or it would not be published
    for table, evaluated, failed, success, _, names, _ in results:
        assert evaluated == len(SUITES[table]) and success == (failed == 0)
        # names only, never values
        assert (names is None) == (failed == 0)
        if names:
            assert set(names.split(", ")) <= {c.name for c in SUITES[table]}, names


def test_no_relation_analysts_read_holds_the_private_values_of_the_bad_input(bad_runs):
    """The quarantined row's name, phone and birth date, the headerless file's
    first row: in the working copy's raw layer, where they belong, and in no
    other relation of it nor anywhere in the published file (the data-quality
    marts carry value-free reasons; a quoted header is cut)."""
    private = ["钱一", "钱二", "钱三", "钱四", "孙五", "13900003101", "13900003104", "13900003105", "沪C30001",
               PRIVATE_BIRTH_DATE]
    leaks = []
    for path, published in ((bad_runs.warehouse, True), (working_copy(bad_runs), False)):
        with duckdb.connect(str(path), read_only=True) as con:
            columns = con.execute(
                "select schema_name, table_name, column_name from duckdb_columns() "
                "where data_type = 'VARCHAR' and (? or schema_name <> 'raw')", [published]).fetchall()
            assert {("marts", "data_quality_quarantine"), ("marts", "data_quality_rejected_files"),
                    ("ops", "validation_results")} <= {(s, t) for s, t, _ in columns}
            leaks += [
                (path.name, s, t, c, value) for s, t, c in columns for value in private
                if con.execute(f'select count(*) from "{s}"."{t}" where contains("{c}", ?)', [value]).fetchone()[0]
            ]
    with duckdb.connect(str(working_copy(bad_runs)), read_only=True) as con:
        in_raw = con.execute(
            "select count(*) filter (where contains(raw_line, '钱四') and contains(reason, ?)), "
            "(select count(*) from raw.load_log where contains(message, '孙五')) from raw.quarantine",
            [PRIVATE_BIRTH_DATE]).fetchone()
    assert leaks == []
    assert in_raw == (1, 1)
