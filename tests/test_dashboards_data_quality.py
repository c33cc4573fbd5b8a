"""The data quality page (data_quality.html): freshness per store and source,
quarantined rows by reason, rejected files, the latest validation of each
table, and the links to the Data Docs and the dbt docs.

The page is rendered from a copy of the demo build's warehouse into which
the quarantine and rejected-file marts and ops.validation_results are written
by hand (and one store source is made late); the expected figures are those
hand-written rows, and the marts read with SQL written here.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest
from page_tree import read

from dashboards.render import render_dashboards

LANGUAGES = ("", "en/")


def _drop(con, schema: str, name: str) -> None:
    """Drop a relation the warehouse may already hold (a later build has them)."""
    row = con.execute(
        "select table_type from information_schema.tables where table_schema = ? and table_name = ?", [schema, name]
    ).fetchone()
    if row:
        con.execute(f'drop {"view" if row[0] == "VIEW" else "table"} {schema}.{name}')


def _copy(demo_build, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    warehouse = folder / "warehouse.duckdb"
    shutil.copyfile(demo_build.warehouse, warehouse)
    return warehouse


@pytest.fixture(scope="module")
def stores(demo_build) -> list[str]:
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as con:
        codes = [c for (c,) in con.execute("select store_code from marts.dim_stores order by 1").fetchall()]
    assert len(codes) >= 2
    return codes


@pytest.fixture(scope="module")
def hand(demo_build, stores, tmp_path_factory):
    """A copy of the warehouse with hand-written data-quality relations, one
    late store source, and the site rendered from it with a Data Docs index
    (the dbt docs not built)."""
    root = tmp_path_factory.mktemp("dq")
    warehouse = _copy(demo_build, root)
    a, b = stores[0], stores[1]
    with duckdb.connect(str(warehouse)) as con:
        for schema, name in (("marts", "data_quality_quarantine"), ("marts", "data_quality_rejected_files"),
                             ("ops", "validation_results")):
            _drop(con, schema, name)
        con.execute("""create table marts.data_quality_quarantine (
            store_code varchar, source varchar, table_name varchar, drop_date date, reason varchar, rows bigint)""")
        con.executemany("insert into marts.data_quality_quarantine values (?, ?, ?, ?, ?, ?)", [
            (a, "dms", "dms_repair_orders", date(2024, 3, 1), "negative amount", 3),
            (a, "dms", "dms_repair_orders", date(2024, 3, 2), "negative amount", 2),
            (a, "dms", "dms_customers", date(2024, 3, 2), "unknown enumeration 客户类型", 1),
            (b, "insurance", "insurance_policies", date(2024, 3, 5), "unparseable date", 7),
            (b, "dms", "dms_repair_orders", date(2024, 3, 5), "negative amount", 4),
        ])
        con.execute("""create table marts.data_quality_rejected_files (
            source_file varchar, store_code varchar, table_name varchar, drop_date date, reason varchar,
            logged_at timestamp)""")
        con.executemany("insert into marts.data_quality_rejected_files values (?, ?, ?, ?, ?, ?)", [
            (f"dms/{a}/2024-03-04/repair_orders.csv", a, "dms_repair_orders", date(2024, 3, 4),
             "missing required column 工单号", datetime(2024, 3, 4, 6, 0)),
            (f"survey/{b}/2024-03-06/responses.csv", b, "survey_responses", date(2024, 3, 6),
             "unknown encoding", datetime(2024, 3, 6, 6, 30)),
        ])
        con.execute("create schema if not exists ops")
        con.execute("""create table ops.validation_results (
            validated_at timestamp, table_name varchar, expectations_evaluated bigint, expectations_failed bigint,
            success boolean, critical_failed boolean, failed_expectations varchar)""")
        con.executemany("insert into ops.validation_results values (?, ?, ?, ?, ?, ?, ?)", [
            (datetime(2024, 3, 6, 7, 0), "marts.kpi_store_month", 24, 0, True, False, None),
            (datetime(2024, 3, 6, 7, 0), "marts.call_list", 12, 2, False, True,
             "call_rank not null; phone_masked matches 1__****____"),
            (datetime(2024, 3, 6, 7, 0), "raw.dms_repair_orders", 9, 1, False, False, "total_amount >= 0"),
            # an earlier run of the call list: not the latest, not shown
            (datetime(2024, 3, 5, 7, 0), "marts.call_list", 12, 0, True, False, None),
        ])
        # one store source behind the data date
        con.execute("""update marts.source_freshness
                       set is_late = true, days_behind = 3, last_drop_date = data_as_of_date - 3
                       where store_code = ? and source = 'survey'""", [b])
    docs = root / "data_docs" / "index.html"
    docs.parent.mkdir()
    docs.write_text("<html>data docs</html>", encoding="utf-8")
    out = root / "site"
    render_dashboards(warehouse, out, data_docs_index=docs, dbt_docs_index=root / "dbt_docs" / "index.html")
    return warehouse, out, docs


def pages(out: Path):
    return [(language, read(out / language / "data_quality.html")) for language in LANGUAGES]


def test_freshness_shows_every_store_and_source_and_flags_the_late_ones(hand, stores):
    warehouse, out, _ = hand
    with duckdb.connect(str(warehouse), read_only=True) as con:
        expected = {(s, src): (late, days, last) for s, src, late, days, last in con.execute(
            "select store_code, source, is_late, days_behind, last_drop_date from marts.source_freshness").fetchall()}
    assert len(expected) == 3 * len(stores)
    assert [k for k, v in expected.items() if v[0]] == [(stores[1], "survey")]
    for _, page in pages(out):
        table = page.find("table", class_="freshness")
        shown = {(tr.get("data-store"), tr.get("data-source")): (tr.get("data-late") == "true",
                                                                 int(tr.cell("days_behind")), tr.cell("last_drop_date"))
                 for tr in table.find_all("tr", data_source=True)}
        assert shown == {k: (late, days, last.isoformat()) for k, (late, days, last) in expected.items()}
        late_row = table.find("tr", data_store=stores[1], data_source="survey")
        assert late_row.find_all("span", class_="late")
        assert stores[1] in page.find(data_note="late").text()
        assert page.find(data_kpi="late").find("div", class_="value").text() == "1"


def test_quarantined_rows_by_reason_per_store_and_in_total(hand, stores):
    warehouse, out, _ = hand
    a, b = stores[0], stores[1]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        per_store_reason = {(s, r): n for s, r, n in con.execute(
            "select store_code, reason, sum(rows) from marts.data_quality_quarantine group by all").fetchall()}
    assert per_store_reason == {(a, "negative amount"): 5, (a, "unknown enumeration 客户类型"): 1,
                                (b, "unparseable date"): 7, (b, "negative amount"): 4}
    for _, page in pages(out):
        detail = page.find("table", class_="quarantine")
        shown: dict[tuple, int] = {}
        for tr in detail.find_all("tr", data_reason=True):
            key = (tr.get("data-store"), tr.get("data-reason"))
            assert tr.cell("reason") == tr.get("data-reason")
            shown[key] = shown.get(key, 0) + int(tr.cell("rows"))
        assert shown == per_store_reason
        # a repair-order reason over two drops is one row: 5 rows, 2 drops
        row = detail.find("tr", data_store=a, data_table="dms_repair_orders", data_reason="negative amount")
        assert (row.cell("rows"), row.cell("drops"), row.cell("latest_drop_date")) == ("5", "2", "2024-03-02")
        totals = {tr.get("data-store-total"): tr.cell("rows") for tr in detail.find_all("tr", data_store_total=True)}
        assert totals == {a: "6", b: "11"}
        by_reason = page.find("table", class_="quarantine-reasons")
        assert {tr.get("data-reason"): tr.cell("rows") for tr in by_reason.find_all("tr", data_reason=True)} == {
            "negative amount": "9", "unparseable date": "7", "unknown enumeration 客户类型": "1"}
        assert by_reason.find("tr", data_row="total").cell("rows") == "17"
        assert page.find(data_kpi="quarantined_rows").find("div", class_="value").text() == "17"


def test_rejected_files_are_named(hand, stores):
    warehouse, out, _ = hand
    a, b = stores[0], stores[1]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        expected = {f: (s, r, d.isoformat()) for f, s, r, d in con.execute(
            "select source_file, store_code, reason, drop_date from marts.data_quality_rejected_files").fetchall()}
    assert len(expected) == 2
    for _, page in pages(out):
        table = page.find("table", class_="rejected-files")
        rows = table.find_all("tr", data_file=True)
        assert [tr.get("data-file") for tr in rows] == [  # newest first
            f"survey/{b}/2024-03-06/responses.csv", f"dms/{a}/2024-03-04/repair_orders.csv"]
        assert {tr.cell("file"): (tr.get("data-store"), tr.cell("reason"), tr.cell("drop_date"))
                for tr in rows} == expected
        assert page.find(data_kpi="rejected_files").find("div", class_="value").text() == "2"


def test_each_validated_table_shows_its_latest_result(hand):
    _, out, _ = hand
    expected = {
        "marts.kpi_store_month": ("true", "24", "0"),
        "marts.call_list": ("false", "12", "2"),
        "raw.dms_repair_orders": ("false", "9", "1"),
    }
    for language, page in pages(out):
        table = page.find("table", class_="validations")
        rows = {tr.get("data-table"): tr for tr in table.find_all("tr", data_table=True)}
        assert {t: (tr.get("data-success"), tr.cell("expectations_evaluated"), tr.cell("expectations_failed"))
                for t, tr in rows.items()} == expected
        assert rows["marts.call_list"].cell("validated_at") == "2024-03-06 07:00"
        assert "phone_masked" in rows["marts.call_list"].cell("failed_expectations")
        passed, failed = ("通过", "未通过") if language == "" else ("Passed", "Failed")
        assert rows["marts.kpi_store_month"].cell("result") == passed
        assert rows["marts.call_list"].cell("result") == failed
        assert rows["marts.call_list"].cell("critical_failed") == failed
        assert rows["raw.dms_repair_orders"].cell("critical_failed") == passed
        assert page.find(data_kpi="validations_failed").find("div", class_="value").text() == "2"


def test_the_docs_links_lead_to_the_docs_or_say_how_to_build_them(hand):
    _, out, docs = hand
    for language, page in pages(out):
        folder = out / language
        link = page.find("li", data_docs="data-docs").find("a")
        assert (folder / link.get("href")).resolve() == docs.resolve()
        dbt = page.find("li", data_docs="dbt-docs")
        assert not dbt.find_all("a") and "make docs" in dbt.text()


def test_the_dbt_docs_link_when_they_are_built(demo_build, tmp_path):
    dbt_docs = tmp_path / "dbt_docs" / "index.html"
    dbt_docs.parent.mkdir()
    dbt_docs.write_text("<html>dbt</html>", encoding="utf-8")
    out = tmp_path / "site"
    render_dashboards(demo_build.warehouse, out, data_docs_index=tmp_path / "none" / "index.html",
                      dbt_docs_index=dbt_docs)
    for language, page in pages(out):
        link = page.find("li", data_docs="dbt-docs").find("a")
        assert (out / language / link.get("href")).resolve() == dbt_docs.resolve()
        data_docs = page.find("li", data_docs="data-docs")
        assert not data_docs.find_all("a") and "aftersales run" in data_docs.text()


def test_a_warehouse_without_the_quality_relations_says_they_are_not_available(demo_build, tmp_path):
    warehouse = _copy(demo_build, tmp_path)
    with duckdb.connect(str(warehouse)) as con:
        for schema, name in (("marts", "data_quality_quarantine"), ("marts", "data_quality_rejected_files"),
                             ("ops", "validation_results")):
            _drop(con, schema, name)
    render_dashboards(warehouse, tmp_path / "site")
    for _, page in pages(tmp_path / "site"):
        missing = {p.get("data-not-available") for p in page.find_all(data_not_available=True)}
        assert missing == {"marts.data_quality_quarantine", "marts.data_quality_rejected_files",
                           "ops.validation_results"}
        assert not page.find_all("table", class_="quarantine") and not page.find_all("table", class_="validations")
        assert page.find_all("table", class_="freshness")  # the rest of the page is there


def test_the_pipeline_site_links_to_the_data_docs_of_its_run(demo_build):
    site = demo_build.root / "dashboards"
    docs = demo_build.root / "data_docs" / "index.html"
    assert docs.is_file()
    for language, page in pages(site):
        link = page.find("li", data_docs="data-docs").find("a")
        assert (site / language / link.get("href")).resolve() == docs.resolve()
