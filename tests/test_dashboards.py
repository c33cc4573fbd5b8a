"""The static dashboards: numbers on the pages equal the marts' values.

A small warehouse (2 stores x 3 months) is written by hand into tmp_path with
the three mart tables of the published interface (created from
dashboards.marts_schema, i.e. the dbt contract); the pages rendered from it
are parsed and compared with the values put in. The inserts name their
columns, so mart columns the fixture does not fill stay NULL.
"""

from __future__ import annotations

import hashlib
import re
import time
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from dashboards import charts, formatting, render
from dashboards.marts_schema import MART_COLUMNS, create_mart_tables
from dashboards.render import DashboardError, RenderResult, render_dashboards

# ----------------------------------------------------------------- the marts

JAN, FEB, MAR = date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31)
MAR_AS_OF = date(2024, 3, 20)  # March is still in progress

STORE_COLUMNS = ("store_code", "store_name", "brand", "city", "province", "region", "opened_on")

STORES = [
    ("S001", "一号店", "Toyota", "上海", "上海", "华东 East", date(2015, 5, 1)),
    ("S002", "二号店", "Honda", "杭州", "浙江", "华东 East", date(2018, 9, 1)),
]


# The order of the values kpi() returns.
KPI_COLUMNS = (
    "store_code", "month_end", "as_of_date", "on_file", "active", "at_risk", "churned", "base_customers",
    "new_customers", "won_back", "hidden_churn", "churn_rate", "churned_annual_spend",
    "on_file_annual_spend", "value_weighted_churn_rate", "cohort_size", "cohort_returned",
    "cohort_churn_rate", "cohort_retention_rate", "visits", "paid_visits", "revenue", "per_ticket_value",
    "labor_amount", "parts_amount", "labor_parts_ratio", "labor_share", "parts_cost", "gross_profit",
    "gross_margin", "policies_expiring", "policies_renewed", "renewal_rate", "value_at_risk",
)


def kpi(store, month_end, as_of, on_file, active, at_risk, churned, *, new=0, won_back=0, hidden=0,
        churned_spend="0", on_file_spend="0", cohort=(0, 0), visits=0, paid_visits=0, revenue="0",
        labor="0", parts="0", parts_cost="0", policies=(0, 0), value_at_risk="0"):
    """A kpi_store_month row whose rates are computed from the counts (NULL on 0)."""
    def div(a, b):
        return None if not b else float(a) / float(b)

    cohort_size, cohort_returned = cohort
    revenue, labor, parts, parts_cost = map(Decimal, (revenue, labor, parts, parts_cost))
    expiring, renewed = policies
    return (
        store, month_end, as_of, on_file, active, at_risk, churned, active + at_risk, new, won_back, hidden,
        div(churned, on_file), Decimal(churned_spend), Decimal(on_file_spend),
        div(Decimal(churned_spend), Decimal(on_file_spend)),
        cohort_size, cohort_returned,
        None if not cohort_size else 1 - cohort_returned / cohort_size,
        div(cohort_returned, cohort_size),
        visits, paid_visits, revenue,
        None if not paid_visits else (revenue / paid_visits).quantize(Decimal("0.01")),
        labor, parts, div(parts, labor), div(labor, labor + parts), parts_cost,
        revenue - parts_cost, div(revenue - parts_cost, revenue),
        expiring, renewed, div(renewed, expiring), Decimal(value_at_risk),
    )


KPIS = [
    kpi("S001", JAN, JAN, 10, 6, 2, 2, new=2, visits=5, paid_visits=4, revenue="8000.00",
        labor="3000.00", parts="4500.00", parts_cost="3000.00", policies=(2, 1),
        churned_spend="1500.00", on_file_spend="20000.00", cohort=(5, 4), value_at_risk="3000.00"),
    kpi("S001", FEB, FEB, 11, 7, 2, 2, new=1, visits=3, paid_visits=3, revenue="4500.50",
        labor="2000.00", parts="2500.50", parts_cost="1600.00", policies=(1, 1),
        churned_spend="1500.00", on_file_spend="22000.00", cohort=(2, 1), value_at_risk="3200.00"),
    # The row the league table shows for S001: churn 3/12 = 25.0%, no policies expiring.
    kpi("S001", MAR, MAR_AS_OF, 12, 7, 2, 3, new=1, hidden=1, visits=6, paid_visits=5,
        revenue="12345.67", labor="4000.00", parts="6000.00", parts_cost="4200.00", policies=(0, 0),
        churned_spend="3000.00", on_file_spend="24000.00", cohort=(4, 3), value_at_risk="5000.00"),
    kpi("S002", JAN, JAN, 6, 5, 1, 0, new=6, visits=6, paid_visits=6, revenue="3000.00",
        labor="1500.00", parts="1500.00", parts_cost="1000.00", policies=(1, 0),
        on_file_spend="9000.00"),
    kpi("S002", FEB, FEB, 7, 5, 1, 1, new=1, visits=2, paid_visits=1, revenue="980.00",
        labor="400.00", parts="580.00", parts_cost="400.00", policies=(2, 2),
        churned_spend="800.00", on_file_spend="10000.00"),
    # S002 in March: churn 1/8 = 12.5%, renewal 3/4 = 75.0%, no cohort (rate NULL).
    kpi("S002", MAR, MAR_AS_OF, 8, 6, 1, 1, won_back=1, visits=4, paid_visits=3, revenue="2100.00",
        labor="1000.00", parts="1100.00", parts_cost="700.00", policies=(4, 3),
        churned_spend="800.00", on_file_spend="11000.00", value_at_risk="900.00"),
]

# fct_customer_month for March (what the by-model and loss-type tables read),
# (store, vin, model, status, loss_type, annual_spend, hidden churn), plus a
# February row that must not be counted.
FCT_MARCH = (
    [("S001", f"VIN1C{i}", "Camry", "active", None, "1000.00", i == 0) for i in range(5)]
    + [("S001", f"VIN1R{i}", "RAV4", "active", None, "1000.00", False) for i in range(2)]
    + [("S001", "VIN1R2", "RAV4", "at_risk", "natural", "1200.00", False),
       ("S001", "VIN1C5", "Camry", "at_risk", None, "1300.00", False),
       ("S001", "VIN1C6", "Camry", "churned", "competitor", "1000.00", False),
       ("S001", "VIN1R3", "RAV4", "churned", "competitor", "1100.00", False),
       ("S001", "VIN1R4", "RAV4", "churned", None, "900.00", False)]
    + [("S002", f"VIN2A{i}", "Accord", "active", None, "1500.00", False) for i in range(6)]
    + [("S002", "VIN2A6", "Accord", "at_risk", None, "900.00", False),
       ("S002", "VIN2A7", "Accord", "churned", "insurer_assigned", "800.00", False)]
)


# The order of the values fct_row() returns.
FCT_COLUMNS = (
    "store_code", "vin", "month_end", "as_of_date", "customer_key", "brand", "model", "visits",
    "paid_visits", "revenue", "labor_amount", "parts_amount", "parts_cost", "last_visit_date",
    "annual_spend", "churn_status", "is_new", "is_won_back", "mileage_due_date", "overdue_by_mileage",
    "is_hidden_churn", "loss_type",
)


def fct_row(store, vin, model, status, loss_type, spend, hidden, month_end=MAR, as_of=MAR_AS_OF):
    zero = Decimal("0.00")
    return (store, vin, month_end, as_of, "k_" + vin, None, model, 0, 0, zero, zero, zero, zero,
            date(2023, 1, 15), Decimal(spend), status, False, False, None, hidden, hidden, loss_type)


def insert_sql(table: str, columns: tuple[str, ...]) -> str:
    return f"insert into marts.{table} ({', '.join(columns)}) values ({', '.join('?' * len(columns))})"


def write_marts(path: Path, stores=STORES, kpis=KPIS, with_facts: bool = True) -> Path:
    con = duckdb.connect(str(path))
    try:
        create_mart_tables(con)
        if stores:
            con.executemany(insert_sql("dim_stores", STORE_COLUMNS), stores)
        if kpis:
            con.executemany(insert_sql("kpi_store_month", KPI_COLUMNS), kpis)
        if with_facts:
            rows = [fct_row(*r) for r in FCT_MARCH]
            rows.append(fct_row("S001", "VIN1C6", "Camry", "churned", None, "1000.00", False, FEB, FEB))
            con.executemany(insert_sql("fct_customer_month", FCT_COLUMNS), rows)
    finally:
        con.close()
    return path


# ------------------------------------------------------------- HTML parsing


class Cells(HTMLParser):
    """Collects every element carrying data-col (table cells) or data-kpi (cards),
    keyed by the enclosing row's data-store / data-month / data-model /
    data-loss-type, with its text and title."""

    ROW_KEYS = ("data-store", "data-month", "data-model", "data-loss-type")

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str], dict[str, str]] = {}
        self.cards: dict[str, dict[str, str]] = {}
        self.row_order: list[str] = []
        self.svgs: list[dict[str, str]] = []
        self.links: list[str] = []
        self._row: str | None = None
        self._open: dict | None = None
        self._card: dict | None = None
        self._card_depth = 0
        self._in_value = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "tr":
            self._row = next((a[k] for k in self.ROW_KEYS if k in a), None)
            if self._row is not None:
                self.row_order.append(self._row)
        if tag == "svg":
            self.svgs.append(a)
        for attr in ("href", "src"):
            if attr in a:
                self.links.append(a[attr])
        if "data-col" in a and self._row is not None:
            self._open = {"text": "", "title": a.get("title")}
            self.cells[(self._row, a["data-col"])] = self._open
        if "data-kpi" in a:
            self._card = {"text": "", "title": a.get("title")}
            self.cards[a["data-kpi"]] = self._card
            self._card_depth = 0
        if self._card is not None and tag == "div":
            self._card_depth += 1
            self._in_value = a.get("class") == "value"

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self._open = None
        if tag == "tr":
            self._row = None
        if self._card is not None and tag == "div":
            self._in_value = False
            self._card_depth -= 1
            if self._card_depth == 0:
                self._card = None

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data
        if self._card is not None and self._in_value:
            self._card["text"] += data.strip()


def parse(path: Path) -> Cells:
    p = Cells()
    p.feed(path.read_text(encoding="utf-8"))
    p.close()
    return p


def cell(page: Cells, row: str, col: str) -> tuple[str, str | None]:
    c = page.cells[(row, col)]
    return c["text"].strip(), c["title"]


# --------------------------------------------------------------------- tests


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return write_marts(tmp_path / "warehouse.duckdb")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> RenderResult:
    """One rendering shared by the tests that only read the pages."""
    root = tmp_path_factory.mktemp("rendered")
    return render_dashboards(write_marts(root / "warehouse.duckdb"), root / "site")


def test_render_result_lists_index_and_every_store_page(rendered: RenderResult):
    site = rendered.index_page.parent
    assert rendered.index_page.name == "index.html"
    assert rendered.index_page.is_file()
    assert set(rendered.store_pages) == {"S001", "S002"}
    for code, page in rendered.store_pages.items():
        assert page == site / "stores" / f"{code}.html"
        assert page.is_file()
    index = parse(rendered.index_page)
    assert "stores/S001.html" in index.links and "stores/S002.html" in index.links
    assert "../index.html" in parse(rendered.store_pages["S001"]).links


def test_league_table_shows_the_latest_month_with_fractions(rendered: RenderResult):
    page = parse(rendered.index_page)
    # Ranked by churn rate, lowest first: S002 (12.5%) before S001 (25.0%).
    assert [r for r in page.row_order] == ["S002", "S001"]
    assert cell(page, "S002", "rank")[0] == "1"
    assert cell(page, "S001", "rank")[0] == "2"

    assert cell(page, "S001", "churn_rate") == ("25.0%", "3/12")
    assert cell(page, "S002", "churn_rate") == ("12.5%", "1/8")
    assert cell(page, "S001", "on_file")[0] == "12"
    assert cell(page, "S001", "active")[0] == "7"
    assert cell(page, "S001", "at_risk")[0] == "2"
    assert cell(page, "S001", "churned")[0] == "3"
    assert cell(page, "S001", "hidden_churn")[0] == "1"
    assert cell(page, "S001", "region")[0] == "华东 East"
    assert cell(page, "S001", "brand")[0] == "Toyota"
    # 3/12 - 2/11 = +6.8 percentage points
    assert cell(page, "S001", "churn_rate_change")[0] == "+6.8 pp"
    assert cell(page, "S001", "value_weighted_churn_rate") == ("12.5%", "¥3,000.00/¥24,000.00")
    # cohort churn: 1 - 3/4; the title is the lost customers over the cohort
    assert cell(page, "S001", "cohort_churn_rate") == ("25.0%", "1/4")
    assert cell(page, "S001", "per_ticket_value") == ("¥2,469.13", "¥12,345.67/5")
    assert cell(page, "S001", "labor_parts_ratio") == ("1.50", "¥6,000.00/¥4,000.00")
    # No policies expiring: the rate is NULL, shown as a dash with 0/0.
    assert cell(page, "S001", "renewal_rate") == ("—", "0/0")
    assert cell(page, "S002", "renewal_rate") == ("75.0%", "3/4")
    # S002 has no six-month cohort in March.
    assert cell(page, "S002", "cohort_churn_rate") == ("—", "0/0")

    html = rendered.index_page.read_text(encoding="utf-8")
    assert "2024-03" in html and "2024-03-20" in html
    assert "month in progress" in html


def test_group_churn_trend_chart_has_a_line_per_store(rendered: RenderResult):
    html = rendered.index_page.read_text(encoding="utf-8")
    page = parse(rendered.index_page)
    assert any("group-churn-trend" in s.get("class", "") for s in page.svgs)
    assert 'data-series="S001 一号店"' in html and 'data-series="S002 二号店"' in html
    # a tooltip per point with the numerator/denominator
    assert "S001 一号店 2024-02: 18.2% (2/11)" in html
    assert "S002 二号店 2024-01: 0.0% (0/6)" in html


def test_store_page_headline_and_monthly_table(rendered: RenderResult):
    page = parse(rendered.store_pages["S001"])
    assert page.cards["on_file"]["text"] == "12"
    assert page.cards["churned"]["text"] == "3"
    assert page.cards["churn_rate"] == {"text": "25.0%", "title": "3/12"}
    assert page.cards["cohort_churn_rate"] == {"text": "25.0%", "title": "1/4"}
    assert page.cards["revenue"]["text"] == "¥12,345.67"
    assert page.cards["per_ticket_value"] == {"text": "¥2,469.13", "title": "¥12,345.67/5"}
    assert page.cards["labor_parts_ratio"]["text"] == "1.50"
    assert page.cards["renewal_rate"] == {"text": "—", "title": "0/0"}

    # monthly table: newest first, every month, rates with their fractions
    months = [r for r in page.row_order if re.fullmatch(r"\d{4}-\d{2}", r)]
    assert months == ["2024-03", "2024-02", "2024-01"]
    assert cell(page, "2024-01", "churn_rate") == ("20.0%", "2/10")
    assert cell(page, "2024-02", "churn_rate") == ("18.2%", "2/11")
    assert cell(page, "2024-03", "churn_rate") == ("25.0%", "3/12")
    assert cell(page, "2024-02", "revenue")[0] == "¥4,500.50"
    assert cell(page, "2024-01", "renewal_rate") == ("50.0%", "1/2")
    assert cell(page, "2024-03", "renewal_rate") == ("—", "0/0")
    assert cell(page, "2024-03", "as_of_date")[0] == "2024-03-20"
    assert cell(page, "2024-03", "value_at_risk")[0] == "¥5,000.00"

    s2 = parse(rendered.store_pages["S002"])
    assert s2.cards["churn_rate"] == {"text": "12.5%", "title": "1/8"}
    assert s2.cards["cohort_churn_rate"] == {"text": "—", "title": "0/0"}
    assert s2.cards["renewal_rate"] == {"text": "75.0%", "title": "3/4"}


def test_store_page_breakdowns_aggregate_the_customer_month_fact(rendered: RenderResult):
    page = parse(rendered.store_pages["S001"])
    # by model, latest month only (the February row of VIN1C6 is not counted)
    assert cell(page, "Camry", "on_file")[0] == "7"
    assert cell(page, "Camry", "at_risk")[0] == "1"
    assert cell(page, "Camry", "churned")[0] == "1"
    assert cell(page, "Camry", "hidden_churn")[0] == "1"
    assert cell(page, "Camry", "churn_rate") == ("14.3%", "1/7")
    assert cell(page, "RAV4", "churn_rate") == ("40.0%", "2/5")
    # loss types of at-risk and churned customers
    assert cell(page, "competitor", "churned")[0] == "2"
    assert cell(page, "competitor", "churned_annual_spend")[0] == "¥2,100.00"
    assert cell(page, "natural", "at_risk")[0] == "1"
    assert cell(page, "none", "churned")[0] == "1"
    assert cell(page, "none", "at_risk")[0] == "1"
    s2 = parse(rendered.store_pages["S002"])
    assert cell(s2, "insurer_assigned", "churned")[0] == "1"


def test_store_page_has_every_chart(rendered: RenderResult):
    page = parse(rendered.store_pages["S001"])
    classes = " ".join(s.get("class", "") for s in page.svgs)
    for chart in ("status-mix", "churn-trend", "revenue", "per-ticket", "labor-parts", "renewal"):
        assert chart in classes, chart
    for svg in page.svgs:
        assert int(svg["width"]) > 0 and int(svg["height"]) > 0
    html = rendered.store_pages["S001"].read_text(encoding="utf-8")
    # stacked status bars carry their counts
    assert "2024-03 流失 (churned): 3 / 12 on file" in html


def test_pages_reference_no_external_resource(rendered: RenderResult):
    site = rendered.index_page.parent
    files = [p for p in site.rglob("*") if p.is_file()]
    assert any(p.suffix == ".html" for p in files) and any(p.suffix == ".sql" for p in files)
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text, path
    for page in [rendered.index_page, *rendered.store_pages.values()]:
        parsed = parse(page)
        for link in parsed.links:
            # local pages, the SQL of each section, or the inline (data:) favicon
            assert link.startswith("data:") or not re.match(r"^[a-z][a-z0-9+.-]*:", link), link
            if not link.startswith("data:"):
                assert (page.parent / link).resolve().exists(), link
        assert "<script" not in page.read_text(encoding="utf-8")
        assert "@import" not in page.read_text(encoding="utf-8")


def test_every_section_names_its_query(rendered: RenderResult):
    html = rendered.store_pages["S001"].read_text(encoding="utf-8")
    for name in render.STORE_SECTIONS:
        assert f"queries/{name}.sql" in html, name
    index = rendered.index_page.read_text(encoding="utf-8")
    for name in ("group_summary", "group_league_table", "group_churn_trend"):
        assert f"queries/{name}.sql" in index


def test_warehouse_is_read_only_and_released(warehouse: Path, tmp_path: Path):
    before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    mtime = warehouse.stat().st_mtime_ns
    render_dashboards(warehouse, tmp_path / "site")
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == before
    assert warehouse.stat().st_mtime_ns == mtime
    assert not warehouse.with_name(warehouse.name + ".wal").exists()
    # a writer can open the file right away
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(
            "insert into marts.dim_stores (store_code, store_name, brand) values ('S003', '三号店', 'Buick')"
        )
    finally:
        con.close()


def test_rerender_adds_new_stores_and_drops_pages_of_gone_ones(warehouse: Path, tmp_path: Path):
    site = tmp_path / "site"
    render_dashboards(warehouse, site)
    con = duckdb.connect(str(warehouse))
    try:
        con.execute("delete from marts.dim_stores where store_code = 'S002'")
        con.execute("delete from marts.kpi_store_month where store_code = 'S002'")
        con.execute(
            "insert into marts.dim_stores (store_code, store_name, brand) values ('S003', '三号店', 'Buick')"
        )
    finally:
        con.close()
    result = render_dashboards(warehouse, site)
    assert set(result.store_pages) == {"S001", "S003"}
    assert not (site / "stores" / "S002.html").exists()
    # A store without KPI rows gets a page saying so, and a league row of dashes.
    assert "no rows in marts.kpi_store_month" in result.store_pages["S003"].read_text(encoding="utf-8")
    index = parse(result.index_page)
    assert cell(index, "S003", "churn_rate") == ("—", None)
    assert cell(index, "S003", "rank")[0] == "—"


def test_empty_marts_render_without_error(tmp_path: Path):
    warehouse = write_marts(tmp_path / "empty.duckdb", stores=[], kpis=[], with_facts=False)
    result = render_dashboards(warehouse, tmp_path / "site")
    assert result.store_pages == {}
    assert "no KPI rows yet" in result.index_page.read_text(encoding="utf-8")


def test_missing_warehouse_or_marts_is_a_clear_error(tmp_path: Path):
    with pytest.raises(DashboardError, match="does not exist"):
        render_dashboards(tmp_path / "nope.duckdb", tmp_path / "site")
    bare = tmp_path / "bare.duckdb"
    duckdb.connect(str(bare)).close()
    with pytest.raises(DashboardError, match=r"lacks marts\.dim_stores.*dbt build"):
        render_dashboards(bare, tmp_path / "site")


def test_locked_warehouse_is_a_clear_error(warehouse: Path, tmp_path: Path):
    import subprocess
    import sys

    # A writer in another process holds the lock (same-process connections share it).
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); time.sleep(60)",
         str(warehouse)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(DashboardError, match="locked"):
            render_dashboards(warehouse, tmp_path / "site")
    finally:
        holder.kill()
        holder.wait()


def test_cli(warehouse: Path, tmp_path: Path, capsys):
    assert render.main(["--warehouse", str(warehouse), "--out", str(tmp_path / "cli")]) == 0
    assert (tmp_path / "cli" / "index.html").is_file()
    assert (tmp_path / "cli" / "stores" / "S002.html").is_file()
    assert "2 store pages" in capsys.readouterr().out
    assert render.main(["--warehouse", str(tmp_path / "missing.duckdb"), "--out", str(tmp_path / "x")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_queries_read_only_the_marts():
    cte = re.compile(r"\b([a-z_][a-z0-9_]*)\s+as\s*\(", re.I)
    source = re.compile(r"\b(?:from|join)\s+([a-z_][a-z0-9_.]*)", re.I)
    files = sorted(render.QUERIES_DIR.glob("*.sql"))
    assert len(files) >= 10
    for path in files:
        sql = re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))
        local = {m.lower() for m in cte.findall(sql)}
        for name in source.findall(sql):
            assert name.startswith("marts.") or name.lower() in local, (path.name, name)
            if name.startswith("marts."):
                assert name.split(".")[1] in MART_COLUMNS, (path.name, name)
        assert not re.search(r"\b(insert|update|delete|create|drop|alter|copy|attach)\b", sql, re.I), path.name


SECTION_10_KPIS = {
    # SPEC section 10: the KPI columns of marts.kpi_store_month and their types.
    "store_code": "VARCHAR", "month_end": "DATE",
    "on_file": "BIGINT", "active": "BIGINT", "at_risk": "BIGINT", "churned": "BIGINT",
    "churn_rate": "DOUBLE", "value_weighted_churn_rate": "DOUBLE",
    "cohort_size": "BIGINT", "cohort_returned": "BIGINT", "cohort_churn_rate": "DOUBLE",
    "visits": "BIGINT", "paid_visits": "BIGINT",
    "revenue": "DECIMAL(18,2)", "per_ticket_value": "DECIMAL(18,2)",
    "labor_amount": "DECIMAL(18,2)", "parts_amount": "DECIMAL(18,2)", "labor_parts_ratio": "DOUBLE",
    "policies_expiring": "BIGINT", "policies_renewed": "BIGINT", "renewal_rate": "DOUBLE",
}


def test_marts_schema_reads_the_dbt_contract():
    # one table per mart model dbt builds, no column twice, every type a DuckDB type
    marts_dir = Path(__file__).resolve().parent.parent / "dbt_project" / "models" / "marts"
    assert set(MART_COLUMNS) == {p.stem for p in marts_dir.glob("*.sql")}
    con = duckdb.connect()
    try:
        for table, columns in MART_COLUMNS.items():
            names = [n for n, _ in columns]
            assert len(names) == len(set(names)), table
            for name, type_ in columns:
                assert type_ == type_.upper() and type_.strip(), (table, name, type_)
                assert con.execute(f"select typeof(null::{type_})").fetchone()[0] == type_, (table, name)
    finally:
        con.close()
    # the columns the hand-kept copies had lost track of
    fct = dict(MART_COLUMNS["fct_customer_month"])
    assert fct["first_visit_date"] == "DATE"
    assert fct["last_service_type"] == "VARCHAR"
    assert fct["visits_in_next_six_months"] == "BOOLEAN"
    assert fct["daily_km"] == "DOUBLE"


def test_kpi_store_month_has_the_spec_section_10_columns():
    kpi_columns = dict(MART_COLUMNS["kpi_store_month"])
    for name, type_ in SECTION_10_KPIS.items():
        assert kpi_columns.get(name) == type_, (name, kpi_columns.get(name), type_)
    fct_columns = {n for n, _ in MART_COLUMNS["fct_customer_month"]}
    for name in ("store_code", "vin", "month_end", "customer_key", "visits", "revenue", "labor_amount",
                 "parts_amount", "last_visit_date", "churn_status", "is_new", "is_won_back",
                 "overdue_by_mileage", "loss_type"):
        assert name in fct_columns, name
    # the fixture's rows fill columns that exist
    for table, columns in (("dim_stores", STORE_COLUMNS), ("kpi_store_month", KPI_COLUMNS),
                           ("fct_customer_month", FCT_COLUMNS)):
        assert set(columns) <= {n for n, _ in MART_COLUMNS[table]}, table


def test_every_column_the_queries_use_is_in_the_marts_schema():
    """Each dashboard query runs against empty tables created from MART_COLUMNS:
    DuckDB's binder rejects any column the SQL reads that the schema lacks."""
    con = duckdb.connect()
    try:
        create_mart_tables(con)
        # the check has teeth: an unknown column is a binder error even on empty tables
        with pytest.raises(duckdb.BinderException):
            con.execute("select k.no_such_column from marts.kpi_store_month k")
        files = sorted(render.QUERIES_DIR.glob("*.sql"))
        assert len(files) >= 10
        for path in files:
            sql = path.read_text(encoding="utf-8")
            params = {p: None for p in set(re.findall(r"\$([a-z_][a-z0-9_]*)", sql, re.I))}
            try:
                con.execute(sql, params) if params else con.execute(sql)
            except duckdb.BinderException as exc:
                pytest.fail(f"queries/{path.name} reads a column MART_COLUMNS lacks: {exc}")
    finally:
        con.close()


def test_charts_use_a_month_calendar():
    # a month missing from the marts is a gap on the axis, not a shortcut
    axis = render.month_axis([date(2023, 11, 30), date(2024, 2, 29), date(2023, 12, 31)])
    assert axis == [date(2023, 11, 30), date(2023, 12, 31), date(2024, 1, 31), date(2024, 2, 29)]
    aligned = render.Aligned([{"month_end": date(2023, 12, 31), "x": 1}], axis)
    assert aligned.values("x") == [None, 1, None, None]


def test_store_file_names_are_safe():
    assert render.store_file_name("S001") == "S001.html"
    odd = render.store_file_name("上海/01")
    assert "/" not in odd and odd.endswith(".html") and odd != render.store_file_name("上海/02")


def test_formats():
    assert formatting.money(Decimal("12345.67")) == "¥12,345.67"
    assert formatting.money(Decimal("-12.5")) == "-¥12.50"
    assert formatting.money(1234.5) == "¥1,234.50"
    assert formatting.money(None) == "—"
    assert formatting.rate(0.123) == "12.3%"
    assert formatting.rate(0.25) == "25.0%"
    assert formatting.rate(None) == "—"
    assert formatting.rate(float("nan")) == "—"
    assert formatting.count(12345) == "12,345"
    assert formatting.ratio(1.5) == "1.50"
    assert formatting.points(-0.013) == "-1.3 pp"
    assert formatting.fraction(3, 12) == "3/12"
    assert formatting.fraction(Decimal("1"), Decimal("4"), "money") == "¥1.00/¥4.00"
    assert formatting.month(date(2024, 2, 29)) == "2024-02"


def test_charts_are_plain_svg():
    svg = charts.line_chart(
        ["2024-01", "2024-02", "2024-03"],
        [charts.Series("a", [0.1, None, 0.3]), charts.Series("b", [0.2, 0.25, 0.2])],
        title="t", y_label="rate", kind="rate",
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "http" not in svg
    assert svg.count("<polyline") == 1  # 'a' has a gap: two lone points, no line
    assert svg.count("<circle") == 5
    assert ">30%<" in svg or ">30.0%<" in svg
    bars = charts.bar_chart(["m1", "m2"], [charts.Series("x", [1, 2]), charts.Series("y", [3, None])],
                            title="t", y_label="n")
    assert bars.count("<rect") == 3 + 2  # three bars and two legend swatches
    empty = charts.line_chart([], [], title="t", y_label="n")
    assert "no data" in empty
    assert charts.nice_ticks(0, 0.25) == [0.0, 0.05, 0.1, 0.15, 0.2, 0.25]


def test_rendering_is_bounded_at_100_stores_by_36_months(tmp_path: Path, monkeypatch):
    """100 stores x 36 months: the same number of queries as for two stores,
    and a few seconds of rendering."""
    from dashboards.sample_marts import write_sample_marts

    calls: list[str] = []
    original = render.run_query

    def counting(con, name, **params):
        calls.append(name)
        return original(con, name, **params)

    monkeypatch.setattr(render, "run_query", counting)
    small = write_marts(tmp_path / "small.duckdb")
    render_dashboards(small, tmp_path / "small_site")
    small_calls = len(calls)

    big = write_sample_marts(tmp_path / "big.duckdb", stores=100, months=36, customers_per_store=40)
    calls.clear()
    started = time.perf_counter()
    result = render_dashboards(big, tmp_path / "big_site")
    elapsed = time.perf_counter() - started
    assert len(result.store_pages) == 100
    assert len(calls) == small_calls
    assert elapsed < 60, f"rendering 100 stores x 36 months took {elapsed:.1f}s"
    page = parse(result.store_pages["S100"])
    assert len([r for r in page.row_order if re.fullmatch(r"\d{4}-\d{2}", r)]) == 36
