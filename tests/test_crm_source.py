"""The crm source (SPEC section 3: campaigns and campaign contacts): the
loader on English and Chinese headers and enumerations, UTF-8 and GB18030,
its bad-input rules (quarantine, rejected files, re-delivery), and the real
pipeline over the hand landing with crm drops added (staging keeps the
latest version, the quarantined row reaches the data-quality mart, no
existing figure moves) and without any (empty crm tables, the build goes
on). Every expected value is written out by hand from the rows below."""

from __future__ import annotations

import codecs
import datetime as dt
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from conftest import HAND_KEY, HAND_LANDING

from orchestration import settings
from sources.contract import CRM_CAMPAIGN_CONTACTS, CRM_CAMPAIGNS
from sources.landing import discover
from sources.loader import load_files

CAMPAIGNS_EN = "campaign_id,store_code,name,kind,target_reason,owner,start_date,end_date,cost,expected_returns,updated_at"
CONTACTS_EN = "campaign_id,store_code,vin,customer_id,contacted_at,channel,reached,offer,updated_at"


def zh_header(table, english: str) -> str:
    return ",".join(table.column(n).zh for n in english.split(","))


CAMPAIGNS_ZH = zh_header(CRM_CAMPAIGNS, CAMPAIGNS_EN)
CONTACTS_ZH = zh_header(CRM_CAMPAIGN_CONTACTS, CONTACTS_EN)
VIN_C = "LHASA15F9NH100003"  # the hand landing's vehicles C and D of S1, P of S2
VIN_D = "LHASA15F2MH100004"
VIN_P = "LBBSB26G7NJ200016"


def write(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "\r\n".join(lines) + "\r\n" if encoding == "gb18030" else "\n".join(lines) + "\n"
    data = text.encode("gb18030" if encoding == "gb18030" else "utf-8")
    if encoding == "utf-8-sig":
        data = codecs.BOM_UTF8 + data
    path.write_bytes(data)
    return path


def load(landing: Path, con: duckdb.DuckDBPyConnection):
    return load_files(con, discover(landing))


# --------------------------------------------------------------- the loader


@pytest.mark.parametrize(
    "encoding, language",
    [("utf-8", "en"), ("utf-8-sig", "en"), ("gb18030", "zh"), ("utf-8", "zh")],
)
def test_campaigns_and_contacts_load_in_either_language_and_encoding(tmp_path, encoding, language):
    zh = language == "zh"
    campaigns = [
        CAMPAIGNS_ZH if zh else CAMPAIGNS_EN,
        ("K1,S1,夏季保养八折,优惠活动,价格高,售后经理,2024/06/01,2024/06/30,5000,12,2024-05-20 10:00:00" if zh else
         "K1,S1,夏季保养八折,discount,price,售后经理,2024-06-01,2024-06-30,5000,12,2024-05-20 10:00:00"),
        ("K2,S1,,上门取送车,,,2024/06/10,2024/07/10,,,2024-05-20 11:00:00" if zh else
         "K2,S1,,PICKUP_SERVICE,,,2024-06-10,2024-07-10,,,2024-05-20 11:00:00"),
    ]
    contacts = [
        CONTACTS_ZH if zh else CONTACTS_EN,
        (f"K1,S1,{VIN_C},C1005,2024-06-02 09:30:00,电话,是,保养工时八折,2024-06-02 09:30:00" if zh else
         f"K1,S1,{VIN_C},C1005,2024-06-02 09:30:00,phone,Y,保养工时八折,2024-06-02 09:30:00"),
        (f"K1,S1,{VIN_D},,2024-06-02 10:00:00,短信,否,,2024-06-02 10:00:00" if zh else
         f"K1,S1,{VIN_D},,2024-06-02 10:00:00,sms,n,,2024-06-02 10:00:00"),
        (f"K2,S1,{VIN_D},C1004,2024-06-02 11:00,微信,,,2024-06-02 11:00" if zh else
         f"K2,S1,{VIN_D},C1004,2024-06-02 11:00,wechat,,,2024-06-02 11:00"),
    ]
    drop = tmp_path / "landing/crm/S1/2024-06-02"
    write(drop / "campaigns.csv", campaigns, encoding)
    write(drop / "campaign_contacts.csv", contacts, encoding)
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        result = load(tmp_path / "landing", con)
        assert sorted((f.file.relative_path, f.status, f.rows_loaded, f.rows_quarantined) for f in result.files) == [
            ("crm/S1/2024-06-02/campaign_contacts.csv", "loaded", 3, 0),
            ("crm/S1/2024-06-02/campaigns.csv", "loaded", 2, 0),
        ]
        assert con.execute(
            "select campaign_id, store_code, name, kind, target_reason, owner, start_date, end_date, cost, "
            "expected_returns, updated_at, _source_file, _line_number, _drop_date "
            "from raw.crm_campaigns order by campaign_id").fetchall() == [
            ("K1", "S1", "夏季保养八折", "discount", "price", "售后经理", dt.date(2024, 6, 1), dt.date(2024, 6, 30),
             Decimal("5000.00"), 12, dt.datetime(2024, 5, 20, 10), "crm/S1/2024-06-02/campaigns.csv", 2,
             dt.date(2024, 6, 2)),
            ("K2", "S1", None, "pickup_service", None, None, dt.date(2024, 6, 10), dt.date(2024, 7, 10),
             None, None, dt.datetime(2024, 5, 20, 11), "crm/S1/2024-06-02/campaigns.csv", 3, dt.date(2024, 6, 2)),
        ]
        assert con.execute(
            "select campaign_id, vin, customer_id, contacted_at, channel, reached, offer, _line_number "
            "from raw.crm_campaign_contacts order by _line_number").fetchall() == [
            ("K1", VIN_C, "C1005", dt.datetime(2024, 6, 2, 9, 30), "phone", True, "保养工时八折", 2),
            ("K1", VIN_D, None, dt.datetime(2024, 6, 2, 10), "sms", False, None, 3),
            ("K2", VIN_D, "C1004", dt.datetime(2024, 6, 2, 11), "wechat", None, None, 4),
        ]
        encodings = {r[0] for r in con.execute("select encoding from raw.load_log").fetchall()}
    assert encodings == {"gb18030" if encoding == "gb18030" else encoding}


def test_bad_crm_rows_are_quarantined_with_file_line_and_problem(tmp_path):
    campaigns = [
        CAMPAIGNS_EN,
        "K1,S1,ok,discount,price,售后经理,2024-06-01,2024-06-30,5000,12,2024-06-02 10:00:00",
        "K2,S1,bad kind,打折,price,售后经理,2024-06-01,2024-06-30,5000,12,2024-06-02 10:00:00",
        "K3,S1,negative cost,invitation,,售后经理,2024-06-01,2024-06-30,-10,1,2024-06-02 10:00:00",
        "K4,S1,no start,invitation,,售后经理,,2024-06-30,10,1,2024-06-02 10:00:00",
        "K5,S2,another store,invitation,,售后经理,2024-06-01,2024-06-30,10,1,2024-06-02 10:00:00",
    ]
    contacts = [
        CONTACTS_EN,
        f"K1,S1,{VIN_C},C1005,2024-06-02 09:30:00,phone,Y,,2024-06-02 09:30:00",
        "K1,S1,LHASA15F9NH10000O,C1005,2024-06-02 09:30:00,phone,Y,,2024-06-02 09:30:00",
        f"K1,S1,{VIN_D},C1004,2024-06-03 09:30:00,phone,Y,,2024-06-03 09:30:00",
        f"K1,S1,{VIN_P},C2002,2024-06-02 09:30:00,pigeon,maybe,,2024-06-02 09:30:00",
    ]
    drop = tmp_path / "landing/crm/S1/2024-06-02"
    write(drop / "campaigns.csv", campaigns)
    write(drop / "campaign_contacts.csv", contacts)
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        load(tmp_path / "landing", con)
        assert con.execute("select campaign_id from raw.crm_campaigns").fetchall() == [("K1",)]
        assert con.execute("select vin from raw.crm_campaign_contacts").fetchall() == [(VIN_C,)]
        quarantined = con.execute(
            "select source_file, line_number, raw_line, reason from raw.quarantine order by source_file, line_number"
        ).fetchall()
        log = con.execute("select source_file, rows_read, rows_loaded, rows_quarantined from raw.load_log "
                          "order by source_file").fetchall()
    expected = {
        ("crm/S1/2024-06-02/campaign_contacts.csv", 3): ["vin: invalid VIN"],
        ("crm/S1/2024-06-02/campaign_contacts.csv", 4): ["contacted_at: ", "after the drop date",
                                                         "updated_at: "],
        ("crm/S1/2024-06-02/campaign_contacts.csv", 5): ["channel: cannot read 'pigeon'", "reached: cannot read"],
        ("crm/S1/2024-06-02/campaigns.csv", 3): ["kind: cannot read '打折'"],
        ("crm/S1/2024-06-02/campaigns.csv", 4): ["cost: negative amount"],
        ("crm/S1/2024-06-02/campaigns.csv", 5): ["start_date: required value missing"],
        ("crm/S1/2024-06-02/campaigns.csv", 6): ["store_code: ", "does not match the drop folder"],
    }
    assert [(f, n) for f, n, _, _ in quarantined] == sorted(expected)
    lines = {"crm/S1/2024-06-02/campaigns.csv": campaigns, "crm/S1/2024-06-02/campaign_contacts.csv": contacts}
    for source_file, line, raw_line, reason in quarantined:
        assert raw_line == lines[source_file][line - 1]
        for fragment in expected[(source_file, line)]:
            assert fragment in reason, (source_file, line, reason)
    # rows read = rows loaded + rows quarantined, per file
    assert log == [("crm/S1/2024-06-02/campaign_contacts.csv", 4, 1, 3), ("crm/S1/2024-06-02/campaigns.csv", 5, 1, 4)]


def test_a_crm_file_without_a_required_column_is_rejected_naming_file_and_column(tmp_path):
    drop = tmp_path / "landing/crm/S1/2024-06-02"
    write(drop / "campaigns.csv", ["campaign_id,store_code,kind,start_date,updated_at",
                                   "K1,S1,discount,2024-06-01,2024-06-02 10:00:00"])
    write(drop / "campaign_contacts.csv", [CONTACTS_EN])  # header only: no rows, not a problem
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        result = load(tmp_path / "landing", con)
        assert con.execute("select count(*) from raw.crm_campaigns").fetchone() == (0,)
    assert [(f.file.relative_path, f.status, f.message) for f in result.files] == [
        ("crm/S1/2024-06-02/campaigns.csv", "rejected",
         "crm/S1/2024-06-02/campaigns.csv: missing required column(s): end_date"),
        ("crm/S1/2024-06-02/campaign_contacts.csv", "loaded", ""),
    ]


def test_a_redelivered_crm_file_replaces_its_rows(tmp_path):
    path = tmp_path / "landing/crm/S1/2024-06-02/campaign_contacts.csv"
    write(path, [CONTACTS_EN,
                 f"K1,S1,{VIN_C},C1005,2024-06-02 09:30:00,phone,N,,2024-06-02 09:30:00",
                 f"K1,S1,{VIN_D},C1004,2024-06-02 10:30:00,phone,N,,2024-06-02 10:30:00"])
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        load(tmp_path / "landing", con)
        write(path, [CONTACTS_EN, f"K1,S1,{VIN_C},C1005,2024-06-02 09:30:00,phone,Y,,2024-06-02 09:45:00"])
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
        again = load(tmp_path / "landing", con)
        rows = con.execute("select vin, reached, updated_at from raw.crm_campaign_contacts").fetchall()
        replaced = con.execute("select table_name, vin, row_key from raw.replaced_rows order by vin").fetchall()
    assert [f.status for f in again.files] == ["loaded"]
    assert rows == [(VIN_C, True, dt.datetime(2024, 6, 2, 9, 45))]
    assert replaced == [("crm_campaign_contacts", VIN_D, f"S1|K1|{VIN_D}"),
                        ("crm_campaign_contacts", VIN_C, f"S1|K1|{VIN_C}")]


def test_the_crm_expectations_find_a_contact_of_no_campaign_one_outside_its_period_and_a_backwards_campaign(tmp_path):
    from expectations.runner import validate_table

    drop = tmp_path / "landing/crm/S1/2024-06-02"
    write(drop / "campaigns.csv", [
        CAMPAIGNS_EN,
        "K1,S1,,discount,,,2024-06-01,2024-06-30,10,1,2024-06-02 10:00:00",
        "K2,S1,,discount,,,2024-06-30,2024-06-01,10,1,2024-06-02 10:00:00",  # ends before it starts
    ])
    write(drop / "campaign_contacts.csv", [
        CONTACTS_EN,
        f"K1,S1,{VIN_C},,2024-06-02 09:30:00,phone,Y,,2024-06-02 09:30:00",  # fine
        f"K1,S1,{VIN_D},,2024-05-31 09:30:00,phone,Y,,2024-05-31 09:30:00",  # before K1 starts
        f"K9,S1,{VIN_D},,2024-06-02 09:30:00,phone,Y,,2024-06-02 09:30:00",  # no campaign K9
    ])
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        load(tmp_path / "landing", con)
    campaigns = validate_table(tmp_path / "wh.duckdb", "raw.crm_campaigns")
    contacts = validate_table(tmp_path / "wh.duckdb", "raw.crm_campaign_contacts")
    assert [(f.name, f.critical) for f in campaigns.failed] == [("end_not_before_start", False)]
    assert [f.examples for f in campaigns.failed] == [
        [{"store_code": "S1", "campaign_id": "K2", "start_date": "2024-06-30", "end_date": "2024-06-01"}]]
    assert sorted((f.name, f.critical) for f in contacts.failed) == [
        ("campaign_exists", False), ("contacted_within_campaign_period", False)]
    examples = {f.name: [(r["campaign_id"], r["vin"]) for r in f.examples] for f in contacts.failed}
    assert examples == {"campaign_exists": [("K9", VIN_D)], "contacted_within_campaign_period": [("K1", VIN_D)]}
    assert campaigns.success is contacts.success is False and not campaigns.critical_failed


# ------------------------------------------------------------- the pipeline

# crm drops added to a copy of the hand landing. S1 (UTF-8, English): campaign
# K1 planned on 2024-05-06, contacts on 2024-05-12 (one with an invalid VIN),
# K1 again on 2024-07-05 with its final cost and C's call re-delivered as
# reached. S2 (GB18030, Chinese headers and labels, YYYY/MM/DD): a price cut
# for everyone, with a header-only contact file.
S1_DROPS = {
    "crm/S1/2024-05-06/campaigns.csv": [
        CAMPAIGNS_EN, "S1-ZL01,S1,老客户保养八折,discount,price,售后经理,2024-05-10,2024-06-30,5000.00,3,2024-05-06 10:00:00"],
    "crm/S1/2024-05-06/campaign_contacts.csv": [CONTACTS_EN],
    "crm/S1/2024-05-12/campaigns.csv": [CAMPAIGNS_EN],
    "crm/S1/2024-05-12/campaign_contacts.csv": [
        CONTACTS_EN,
        f"S1-ZL01,S1,{VIN_C},C1005,2024-05-12 09:30:00,phone,N,保养工时八折,2024-05-12 09:30:00",
        f"S1-ZL01,S1,{VIN_D},C1004,2024-05-12 10:00:00,wechat,Y,保养工时八折,2024-05-12 10:00:00",
        "S1-ZL01,S1,LHASA15F9NH10000O,C1009,2024-05-12 11:00:00,phone,Y,保养工时八折,2024-05-12 11:00:00"],
    "crm/S1/2024-07-05/campaigns.csv": [
        CAMPAIGNS_EN, "S1-ZL01,S1,老客户保养八折,discount,price,售后经理,2024-05-10,2024-06-30,6200.00,3,2024-07-05 16:00:00"],
    "crm/S1/2024-07-05/campaign_contacts.csv": [
        CONTACTS_EN, f"S1-ZL01,S1,{VIN_C},C1005,2024-05-12 09:30:00,phone,Y,保养工时八折,2024-07-05 16:30:00"],
}
S2_DROPS = {
    "crm/S2/2024-06-03/campaigns.csv": [
        CAMPAIGNS_ZH, "S2-ZL01,S2,全店保养限时直降,优惠活动,价格高,客服经理,2024/06/05,2024/06/30,20000,2,2024-06-03 09:00:00"],
    "crm/S2/2024-06-03/campaign_contacts.csv": [CONTACTS_ZH],
}
BAD_CONTACT = "crm/S1/2024-05-12/campaign_contacts.csv"


def _run(landing: Path, warehouse: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", "--landing", str(landing), "--warehouse", str(warehouse),
         "--dashboards", str(warehouse.parent / "dashboards"), "--data-docs", str(warehouse.parent / "data_docs")],
        capture_output=True, text=True,
        env={**os.environ, settings.PSEUDONYM_KEY_ENV: HAND_KEY},
    )


@pytest.fixture(scope="module")
def crm_run(tmp_path_factory, hand_run):
    """`aftersales run` over the hand landing plus the crm drops above,
    starting from the warehouse of the session's clean hand run (as a daily
    run starts from yesterday's): (run, published warehouse, working copy)."""
    from orchestration.publish import working_copy_path

    root = tmp_path_factory.mktemp("crm")
    landing, warehouse = root / "landing", root / "warehouse.duckdb"
    shutil.copyfile(hand_run[0], warehouse)
    shutil.copyfile(working_copy_path(hand_run[0]), working_copy_path(warehouse))
    shutil.copytree(HAND_LANDING, landing)
    for rel, lines in S1_DROPS.items():
        write(landing / rel, lines)
    for rel, lines in S2_DROPS.items():
        write(landing / rel, lines, "gb18030")
    run = _run(landing, warehouse)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return run, warehouse, working_copy_path(warehouse)


def test_the_run_loads_the_crm_drops_and_quarantines_the_bad_contact(crm_run):
    run, _, working = crm_run
    assert "quarantined  1 rows (table raw.quarantine)" in run.stdout
    with duckdb.connect(str(working), read_only=True) as con:
        assert con.execute("select source_file, line_number, raw_line, reason from raw.quarantine").fetchall() == [
            (BAD_CONTACT, 4, S1_DROPS[BAD_CONTACT][3], "vin: invalid VIN 'LHASA15F9NH10000O' (17 characters, no I/O/Q)")]
        assert con.execute("select count(*) from raw.crm_campaigns").fetchone() == (3,)  # every version
        assert con.execute("select count(*) from raw.crm_campaign_contacts").fetchone() == (3,)


def test_staging_keeps_the_latest_version_of_each_campaign_and_contact(crm_run):
    with duckdb.connect(str(crm_run[2]), read_only=True) as con:
        campaigns = con.execute(
            "select store_code, campaign_id, campaign_name, kind, target_reason, owner, start_date, end_date, "
            "cost, expected_returns, updated_at from staging.stg_crm__campaigns order by store_code").fetchall()
        contacts = con.execute(
            "select store_code, campaign_id, vin, customer_id, contacted_at, contact_date, channel, reached, offer "
            "from staging.stg_crm__campaign_contacts order by vin").fetchall()
    assert campaigns == [
        ("S1", "S1-ZL01", "老客户保养八折", "discount", "price", "售后经理", dt.date(2024, 5, 10),
         dt.date(2024, 6, 30), Decimal("6200.00"), 3, dt.datetime(2024, 7, 5, 16)),
        ("S2", "S2-ZL01", "全店保养限时直降", "discount", "price", "客服经理", dt.date(2024, 6, 5),
         dt.date(2024, 6, 30), Decimal("20000.00"), 2, dt.datetime(2024, 6, 3, 9)),
    ]
    assert contacts == [
        ("S1", "S1-ZL01", VIN_D, "C1004", dt.datetime(2024, 5, 12, 10), dt.date(2024, 5, 12), "wechat", True,
         "保养工时八折"),
        ("S1", "S1-ZL01", VIN_C, "C1005", dt.datetime(2024, 5, 12, 9, 30), dt.date(2024, 5, 12), "phone", True,
         "保养工时八折"),
    ]


def test_the_crm_rows_reach_the_data_quality_mart_and_pass_their_expectations(crm_run):
    _, warehouse, _ = crm_run
    with duckdb.connect(str(warehouse), read_only=True) as con:
        quarantine = con.execute(
            "select store_code, source, table_name, drop_date, reason, rows from marts.data_quality_quarantine"
        ).fetchall()
        results = dict(con.execute(
            "select table_name, expectations_failed from ops.validation_results "
            "where table_name like 'raw.crm_%'").fetchall())
    assert quarantine == [("S1", "crm", "crm_campaign_contacts", dt.date(2024, 5, 12), "vin: invalid VIN", 1)]
    assert results == {"raw.crm_campaigns": 0, "raw.crm_campaign_contacts": 0}


def test_crm_drops_change_no_existing_figure(crm_run, hand_run):
    marts = ("kpi_store_month", "fct_customer_month", "kpi_scope_month", "call_list")
    with duckdb.connect(str(hand_run[0]), read_only=True) as con:
        before = {m: con.execute(f"select * from marts.{m} order by all").fetchall() for m in marts}
    with duckdb.connect(str(crm_run[1]), read_only=True) as con:
        after = {m: con.execute(f"select * from marts.{m} order by all").fetchall() for m in marts}
    assert after == before and before["kpi_store_month"]


def test_a_landing_without_crm_builds_with_empty_crm_tables(hand_run):
    from orchestration.publish import working_copy_path

    warehouse, summary, _, _ = hand_run
    assert not (HAND_LANDING / "crm").exists()
    assert summary.exit_code == 0 and summary.published
    with duckdb.connect(str(working_copy_path(warehouse)), read_only=True) as con:
        counts = [con.execute(f"select count(*) from {t}").fetchone()[0] for t in (
            "raw.crm_campaigns", "raw.crm_campaign_contacts",
            "staging.stg_crm__campaigns", "staging.stg_crm__campaign_contacts")]
    assert counts == [0, 0, 0, 0]
