"""The landing reader (SPEC section 3) on every encoding, header language,
enumeration language, flag form and date form, and its bookkeeping: load
metadata, re-loads, re-deliveries, row and file problems (SPEC section 4)."""

from __future__ import annotations

import codecs
import datetime as dt
import os
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from sources.contract import ENUMERATIONS, REPAIR_ORDERS, SURVEY_RESPONSES, VEHICLES
from sources.landing import discover
from sources.loader import load_files

RO_EN = (
    "ro_number,store_code,customer_id,vin,opened_at,closed_at,mileage_km,service_type,payer,"
    "labor_amount,parts_amount,other_amount,discount_amount,total_amount,parts_cost,advisor_code,"
    "status,claim_no,updated_at"
)
RO_ZH = ",".join(REPAIR_ORDERS.column(n).zh for n in RO_EN.split(","))
VIN_A = "LSVAB2BM1GN123456"
VIN_B = "LFV3A23C0H3000001"


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("gb18030") if encoding == "gb18030" else text.encode("utf-8")
    if encoding == "utf-8-sig":
        data = codecs.BOM_UTF8 + data
    path.write_bytes(data)
    return path


def load(landing: Path, db: Path):
    con = duckdb.connect(str(db))
    try:
        return load_files(con, discover(landing)), con
    except Exception:
        con.close()
        raise


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030"])
@pytest.mark.parametrize("language", ["en", "zh"])
def test_repair_orders_in_every_encoding_and_header_language(tmp_path, encoding, language):
    header = RO_EN if language == "en" else RO_ZH
    maintenance, customer, closed = (
        ("maintenance", "customer", "closed") if language == "en" else ("保养", "自费", "已结算")
    )
    text = (
        f"{header}\n"
        f"R1,S1,C1,{VIN_A},2025-01-02 09:00:00,2025-01-02 11:30:00,12345,{maintenance},{customer},"
        f"100.50,200.25,10,20.75,290.00,150.10,A1,{closed},,2025-01-02 11:30:00\n"
    )
    write(tmp_path / "landing/dms/S1/2025-01-02/repair_orders.csv", text, encoding)
    result, con = load(tmp_path / "landing", tmp_path / "wh.duckdb")
    with con:
        assert [f.status for f in result.files] == ["loaded"]
        row = con.execute(
            """select ro_number, store_code, vin, opened_at, closed_at, mileage_km, service_type, payer,
                      labor_amount, parts_amount, other_amount, discount_amount, total_amount, parts_cost,
                      status, claim_no, _source_file, _line_number, _drop_date, length(_file_hash)
               from raw.dms_repair_orders"""
        ).fetchall()
    assert row == [
        (
            "R1", "S1", VIN_A, dt.datetime(2025, 1, 2, 9), dt.datetime(2025, 1, 2, 11, 30), 12345,
            "maintenance", "customer", Decimal("100.50"), Decimal("200.25"), Decimal("10.00"),
            Decimal("20.75"), Decimal("290.00"), Decimal("150.10"), "closed", None,
            "dms/S1/2025-01-02/repair_orders.csv", 2, dt.date(2025, 1, 2), 64,
        )
    ]


def test_every_enumeration_label_in_both_languages(tmp_path):
    """Each Chinese label and English code of service_type, payer and status
    reads as the English code."""
    lines = [RO_EN]
    expected = []
    n = 0
    for field, domain in (("service_type", "service_type"), ("payer", "payer"), ("status", "ro_status")):
        for code, zh in ENUMERATIONS[domain].items():
            for label in (code, zh):
                n += 1
                values = {"service_type": "repair", "payer": "customer", "status": "closed"}
                values[field] = label
                lines.append(
                    f"R{n},S1,C1,{VIN_A},2025-01-02 09:00:00,,1,{values['service_type']},{values['payer']},"
                    f"1.00,1.00,0,0,2.00,0,A1,{values['status']},,2025-01-02 10:00:00"
                )
                want = {"service_type": "repair", "payer": "customer", "status": "closed"}
                want[field] = code
                expected.append((f"R{n}", want["service_type"], want["payer"], want["status"]))
    write(tmp_path / "landing/dms/S1/2025-01-02/repair_orders.csv", "\n".join(lines) + "\n")
    result, con = load(tmp_path / "landing", tmp_path / "wh.duckdb")
    with con:
        got = con.execute(
            "select ro_number, service_type, payer, status from raw.dms_repair_orders order by _line_number"
        ).fetchall()
    assert result.rows_quarantined == 0
    assert got == expected


@pytest.mark.parametrize(
    "true_form,false_form", [("Y", "N"), ("是", "否"), ("1", "0"), ("true", "false"), ("TRUE", "FALSE")]
)
def test_every_flag_form_and_both_date_forms(tmp_path, true_form, false_form):
    header = ",".join(c.name for c in VEHICLES.columns)
    text = (
        f"{header}\n"
        f"{VIN_A},S1,C1,粤A12345,丰田,卡罗拉,2020,2020-05-17,{true_form},2025-01-02 08:00:00\n"
        f"{VIN_B},S1,C2,粤B54321,丰田,凯美瑞,2021,2021/06/30,{false_form},2025-01-02 08:00:00\n"
    )
    write(tmp_path / "landing/dms/S1/2025-01-02/vehicles.csv", text)
    result, con = load(tmp_path / "landing", tmp_path / "wh.duckdb")
    with con:
        got = con.execute("select vin, purchase_date, sold_by_store from raw.dms_vehicles order by vin").fetchall()
    assert result.rows_quarantined == 0
    assert got == [(VIN_B, dt.date(2021, 6, 30), False), (VIN_A, dt.date(2020, 5, 17), True)]


def test_survey_reason_lists_in_chinese_and_english(tmp_path):
    header = ",".join(c.zh for c in SURVEY_RESPONSES.columns)
    text = (
        f"{header}\n"
        f"Q1,S1,C1,{VIN_A},2025-01-02 10:00:00,电话,是,30000,不定期,修理厂,价格高;距离远,\"贵,远\",否,2025-01-02 10:00:00\n"
        f"Q2,S1,C2,{VIN_B},2025-01-02 11:00:00,phone,N,,,,,,N,2025-01-02 11:00:00\n"
        f"Q3,S1,C2,{VIN_B},2025-01-02 12:00:00,wechat,Y,,regular,other_brand_4s,moved；vehicle_sold,,Y,2025-01-02 12:00:00\n"
    )
    write(tmp_path / "landing/survey/S1/2025-01-02/responses.csv", text, "gb18030")
    result, con = load(tmp_path / "landing", tmp_path / "wh.duckdb")
    with con:
        got = con.execute(
            "select response_id, method, reached, maintains_regularly, serviced_at, reasons, comment "
            "from raw.survey_responses order by response_id"
        ).fetchall()
    assert result.rows_quarantined == 0
    assert got == [
        ("Q1", "phone", True, "irregular", "independent_shop", "price;distance", "贵,远"),
        ("Q2", "phone", False, None, None, None, None),
        ("Q3", "wechat", True, "regular", "other_brand_4s", "moved;vehicle_sold", None),
    ]


def ro_line(number: str, *, total: str = "290.00", vin: str = VIN_A, service: str = "maintenance",
            updated: str = "2025-01-02 11:30:00", labor: str = "100.00") -> str:
    return (
        f"{number},S1,C1,{vin},2025-01-02 09:00:00,2025-01-02 11:30:00,100,{service},customer,"
        f"{labor},200.00,0,10.00,{total},150,A1,closed,,{updated}"
    )


def test_row_problems_are_quarantined_with_file_line_and_reason(tmp_path):
    lines = [
        RO_EN,
        ro_line("R1"),  # line 2: good
        ro_line("R2", vin="LSVAB2BM1GN12345I"),  # line 3: I is not allowed in a VIN
        ro_line("R3", service="spa"),  # line 4: unknown enumeration
        ro_line("R4", total="291.00"),  # line 5: total mismatch
        ro_line("R5", updated="2025-01-05 08:00:00"),  # line 6: after the drop date
        ro_line("R6", labor="-5.00", total="185.00"),  # line 7: negative amount
        "R7,S1,C1,too,few,fields",  # line 8: not a full CSV row
        ro_line("R8"),  # line 9: good
    ]
    write(tmp_path / "landing/dms/S1/2025-01-02/repair_orders.csv", "\n".join(lines) + "\n")
    result, con = load(tmp_path / "landing", tmp_path / "wh.duckdb")
    with con:
        loaded = con.execute("select ro_number, _line_number from raw.dms_repair_orders order by 2").fetchall()
        quarantined = con.execute(
            "select line_number, reason, raw_line, source_file from raw.quarantine order by line_number"
        ).fetchall()
        log = con.execute(
            "select rows_read, rows_loaded, rows_quarantined, status from raw.load_log"
        ).fetchall()
    assert loaded == [("R1", 2), ("R8", 9)]
    assert [q[0] for q in quarantined] == [3, 4, 5, 6, 7, 8]
    reasons = {q[0]: q[1] for q in quarantined}
    assert "invalid VIN" in reasons[3]
    assert "service_type: cannot read 'spa'" in reasons[4]
    assert "total_amount: 291.00" in reasons[5]
    assert "after the drop date 2025-01-02" in reasons[6]
    assert "labor_amount: negative amount" in reasons[7]
    assert "unreadable CSV line" in reasons[8]
    assert {q[2] for q in quarantined} == set(lines[2:8])
    assert {q[3] for q in quarantined} == {"dms/S1/2025-01-02/repair_orders.csv"}
    # rows read = rows loaded + rows quarantined
    assert log == [(8, 2, 6, "loaded")]


def test_file_problems_reject_the_file_and_the_rest_loads(tmp_path):
    landing = tmp_path / "landing"
    write(landing / "dms/S1/2025-01-02/repair_orders.csv", f"{RO_EN}\n{ro_line('R1')}\n")
    (landing / "dms/S2/2025-01-02").mkdir(parents=True)
    (landing / "dms/S2/2025-01-02/repair_orders.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00binary")
    write(landing / "dms/S3/2025-01-02/repair_orders.csv", "ro_number,store_code\nR1,S3\n")
    (landing / "dms/S4/2025-01-02").mkdir(parents=True)
    (landing / "dms/S4/2025-01-02/repair_orders.csv").write_bytes(RO_EN.encode() + b"\nR1,S4,\xff\xfe\xfd\x80\n")
    result, con = load(landing, tmp_path / "wh.duckdb")
    with con:
        loaded = con.execute("select store_code, count(*) from raw.dms_repair_orders group by 1").fetchall()
    messages = {f.file.store_code: f.message for f in result.rejected}
    assert loaded == [("S1", 1)]
    assert set(messages) == {"S2", "S3", "S4"}
    assert messages["S2"].startswith("dms/S2/2025-01-02/repair_orders.csv: not a CSV")
    assert "missing required column(s): vin, opened_at" in messages["S3"]
    assert "unknown encoding" in messages["S4"]
    # the delivered files are kept as they were
    assert (landing / "dms/S2/2025-01-02/repair_orders.csv").read_bytes().startswith(b"\x89PNG")


def test_reloading_skips_unchanged_files_and_a_redelivery_replaces_its_rows(tmp_path):
    landing = tmp_path / "landing"
    path = write(landing / "dms/S1/2025-01-02/repair_orders.csv", f"{RO_EN}\n{ro_line('R1')}\n{ro_line('R2')}\n")
    db = tmp_path / "wh.duckdb"
    first, con = load(landing, db)
    con.close()
    again, con = load(landing, db)
    with con:
        assert [f.status for f in again.files] == ["unchanged"]
        assert con.execute("select count(*) from raw.dms_repair_orders").fetchone()[0] == 2
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))  # same bytes, touched
    touched, con = load(landing, db)
    con.close()
    assert [f.status for f in touched.files] == ["unchanged"]
    write(path, f"{RO_EN}\n{ro_line('R1', total='300.00', labor='110.00')}\n")  # corrected re-delivery
    redelivered, con = load(landing, db)
    with con:
        rows = con.execute("select ro_number, total_amount from raw.dms_repair_orders").fetchall()
        log = con.execute("select rows_loaded, status from raw.load_log").fetchall()
    assert [f.status for f in redelivered.files] == ["loaded"]
    assert rows == [("R1", Decimal("300.00"))]
    assert log == [(1, "loaded")]


def test_many_files_in_one_scan_keep_their_own_line_numbers(tmp_path):
    landing = tmp_path / "landing"
    for day in range(1, 29):
        date = f"2025-02-{day:02d}"
        rows = [ro_line(f"R{day}-{i}", updated=f"{date} 10:00:00") for i in range(day % 5)]
        write(landing / f"dms/S1/{date}/repair_orders.csv", "\n".join([RO_EN, *rows]) + "\n")
    result, con = load(landing, tmp_path / "wh.duckdb")
    with con:
        got = con.execute("select ro_number, _line_number, _drop_date from raw.dms_repair_orders").fetchall()
    assert result.count("loaded") == 28
    assert len(got) == sum(day % 5 for day in range(1, 29))
    for ro_number, line, drop_date in got:
        day, index = ro_number[1:].split("-")
        assert line == int(index) + 2
        assert drop_date == dt.date(2025, 2, int(day))


def test_rows_read_is_counted_apart_from_the_reader(tmp_path):
    """rows_read comes from counting the file's records, not from what DuckDB
    returned: blank lines are no rows, a quoted comment may span lines, a
    line DuckDB cannot split is still a row read (and quarantined)."""
    landing = tmp_path / "landing"
    header = ",".join(c.name for c in SURVEY_RESPONSES.columns)
    write(
        landing / "survey/S1/2025-01-02/responses.csv",
        f"{header}\r\n"
        f"Q1,S1,C1,{VIN_A},2025-01-02 10:00:00,phone,Y,,,,,\"two\r\nlines, one comment\",N,2025-01-02 10:00:00\r\n"
        "\r\n"
        f"Q2,S1,C2,{VIN_B},2025-01-02 11:00:00,phone,N,,,,,,N,2025-01-02 11:00:00\r\n",
        "gb18030",
    )
    write(
        landing / "dms/S1/2025-01-02/repair_orders.csv",
        f"{RO_EN}\n\n{ro_line('R1')}\n{ro_line('R2', total='1.00')}\nR3,S1,too,few\n\n\n{ro_line('R4')}",
    )
    result, con = load(landing, tmp_path / "wh.duckdb")
    with con:
        log = dict(con.execute("select table_name, rows_read from raw.load_log").fetchall())
        from orchestration.assets.raw import rows_reconciled_result

        check = rows_reconciled_result(con)
    assert log == {"survey_responses": 2, "dms_repair_orders": 4}
    assert {f.file.table.name: (f.rows_loaded, f.rows_quarantined) for f in result.files} == {
        "survey_responses": (2, 0), "dms_repair_orders": (2, 2)}
    assert check.passed and check.metadata["files_checked"].value == 2


def test_the_rows_reconciled_check_names_a_file_whose_rows_do_not_add_up(tmp_path):
    landing = tmp_path / "landing"
    write(landing / "dms/S1/2025-01-02/repair_orders.csv", f"{RO_EN}\n{ro_line('R1')}\n{ro_line('R2')}\n")
    write(landing / "dms/S1/2025-01-03/repair_orders.csv", f"{RO_EN}\n{ro_line('R3', total='1.00')}\n")
    _, con = load(landing, tmp_path / "wh.duckdb")
    from orchestration.assets.raw import rows_reconciled_result

    with con:
        assert rows_reconciled_result(con).passed
        con.execute("delete from raw.dms_repair_orders where ro_number = 'R2'")  # a row lost
        con.execute("delete from raw.quarantine")  # and the quarantined one
        check = rows_reconciled_result(con)
    assert not check.passed and check.severity.value == "ERROR"
    assert check.metadata["files_unreconciled"].value == 2
    assert check.metadata["unreconciled"].value.splitlines() == [
        "dms/S1/2025-01-02/repair_orders.csv: 2 rows read <> 1 in raw + 0 in raw.quarantine",
        "dms/S1/2025-01-03/repair_orders.csv: 1 rows read <> 0 in raw + 0 in raw.quarantine",
    ]
