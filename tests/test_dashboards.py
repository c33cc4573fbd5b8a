"""The static dashboards: the group overview's figures equal the marts, in
every month the month filter offers and in both languages; the site is built
from the label dictionary alone, links only to its own files, reads the
warehouse read-only and fails clearly on a missing or locked one.

The pages are the ones `aftersales run` rendered for the generated demo
landing (the session fixture `demo_build`); expected values are read from
the marts with plain SQL written here, not with the pages' query files.
"""

from __future__ import annotations

import hashlib
import pickle
import re
import shutil
import statistics
import subprocess
import sys
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pytest

from dashboards import charts, formatting, render
from dashboards.i18n import LANGUAGES, LabelError, Translator, load_labels
from dashboards.marts_schema import MART_COLUMNS, create_mart_tables
from dashboards.pages.group import GROUP_PANELS
from dashboards.pages.months import Aligned, month_axis
from dashboards.render import DashboardError, render_dashboards
from dashboards.site import PACKAGE_DIR, TEMPLATES_DIR, store_file_name
from dashboards.sql import QUERIES_DIR

# ------------------------------------------------------------- HTML parsing


class Cells(HTMLParser):
    """Every element carrying data-col (table cells) or data-kpi (cards), keyed
    by the enclosing row's data-store / data-region / data-scope / data-row,
    with its text, title and class."""

    ROW_KEYS = ("data-store", "data-region", "data-scope", "data-row")

    def __init__(self) -> None:
        super().__init__()
        self.cells: dict[tuple[str, str], dict[str, str]] = {}
        self.cards: dict[str, dict[str, str]] = {}
        self.row_order: list[str] = []
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
        for attr in ("href", "src"):
            if attr in a:
                self.links.append(a[attr])
        if "data-col" in a and self._row is not None:
            self._open = {"text": "", "title": a.get("title"), "class": a.get("class") or ""}
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


def parse(html: str) -> Cells:
    p = Cells()
    p.feed(html)
    p.close()
    return p


PANEL = re.compile(r'<div class="month" data-month-panel="(\d{4}-\d{2})"( hidden)?>')


def month_panels(html: str) -> dict[str, tuple[bool, Cells]]:
    """month -> (hidden without script, the panel's cells) of the group page."""
    starts = list(PANEL.finditer(html))
    end = html.index('<section id="trends">')
    panels = {}
    for i, m in enumerate(starts):
        stop = starts[i + 1].start() if i + 1 < len(starts) else end
        panels[m.group(1)] = (bool(m.group(2)), parse(html[m.end():stop]))
    return panels


def text(page: Cells, row: str, col: str) -> str:
    return page.cells[(row, col)]["text"].strip()


def title(page: Cells, row: str, col: str) -> str | None:
    return page.cells[(row, col)]["title"]


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def site(demo_build) -> Path:
    """The build folder `aftersales run` rendered."""
    return demo_build.root / "dashboards"


@pytest.fixture(scope="module")
def marts(demo_build):
    con = duckdb.connect(str(demo_build.warehouse), read_only=True)
    yield con
    con.close()


def rows(con, sql: str, *params) -> list[dict]:
    cur = con.execute(sql, list(params))
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


@pytest.fixture(scope="module")
def group_pages(site) -> dict[str, dict[str, tuple[bool, Cells]]]:
    return {
        "zh": month_panels((site / "index.html").read_text(encoding="utf-8")),
        "en": month_panels((site / "en" / "index.html").read_text(encoding="utf-8")),
    }


# --------------------------------------------------------------- group page


def test_the_site_has_every_page_in_both_languages(site, marts):
    stores = [r[0] for r in marts.execute("select store_code from marts.dim_stores order by 1").fetchall()]
    for folder in (site, site / "en"):
        assert (folder / "index.html").is_file()
        assert (folder / "data_quality.html").is_file()
        for store in stores:
            assert (folder / "stores" / f"{store}.html").is_file(), store
            assert (folder / "call_lists" / f"{store}.html").is_file(), store
    assert (site / "assets" / "dashboard.css").is_file() and (site / "assets" / "dashboard.js").is_file()
    zh, en = (site / "index.html").read_text(encoding="utf-8"), (site / "en" / "index.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in zh and "集团总览" in zh
    assert '<html lang="en">' in en and "Group overview" in en and "集团总览" not in en
    # the switch leads to the same page in the other language
    assert 'href="en/index.html"' in zh and 'href="../index.html"' in en


def test_every_month_has_a_panel_and_only_the_latest_shows_without_script(group_pages, marts):
    months = [formatting.month(r[0]) for r in marts.execute(
        "select distinct month_end from marts.kpi_store_month order by 1").fetchall()]
    assert len(months) >= 20
    for language, panels in group_pages.items():
        assert list(panels) == months, language
        assert [m for m, (hidden, _) in panels.items() if not hidden] == [months[-1]], language


LEAGUE_RATES = {
    # column: (numerator, denominator, kind of the fraction)
    "churn_rate": ("churned", "on_file", "count"),
    "value_weighted_churn_rate": ("churned_annual_spend", "on_file_annual_spend", "money"),
    "cohort_retention_rate": ("cohort_returned", "cohort_size", "count"),
    "gross_margin": ("gross_profit", "revenue", "money"),
    "renewal_rate": ("policies_renewed", "policies_expiring", "count"),
}


def test_league_table_equals_kpi_store_month_in_every_month(group_pages, marts):
    kpis = rows(marts, "select * from marts.kpi_store_month order by month_end, store_code")
    assert kpis
    for language, panels in group_pages.items():
        for k in kpis:
            _, page = panels[formatting.month(k["month_end"])]
            s = k["store_code"]
            assert text(page, s, "on_file") == f"{k['on_file']:,}"
            for col, (num, den, kind) in LEAGUE_RATES.items():
                assert text(page, s, col) == formatting.rate(k[col]), (language, s, col)
                assert title(page, s, col) == formatting.fraction(k[num], k[den], kind), (language, s, col)
            assert text(page, s, "per_ticket_value") == formatting.money(k["per_ticket_value"])
            assert title(page, s, "per_ticket_value") == formatting.fraction(k["revenue"], k["paid_visits"], "money", "count")
            assert text(page, s, "labor_parts_ratio") == formatting.ratio(k["labor_parts_ratio"])
            assert title(page, s, "labor_parts_ratio") == formatting.fraction(k["parts_amount"], k["labor_amount"], "money")
            assert text(page, s, "hidden_churn") == f"{k['hidden_churn']:,}"
            assert text(page, s, "value_at_risk") == formatting.money(k["value_at_risk"])


def test_league_is_ranked_by_churn_rate_and_compared_with_the_median(group_pages, marts):
    """The median row is the middle store of the month (worked out here with
    statistics.median); a store's cell is red above it for churn, green above
    it for retention."""
    kpis = rows(marts, "select * from marts.kpi_store_month order by month_end, store_code")
    by_month: dict[str, list[dict]] = {}
    for k in kpis:
        by_month.setdefault(formatting.month(k["month_end"]), []).append(k)
    checked_colours = 0
    for month, stores in by_month.items():
        _, page = group_pages["zh"][month]
        order = [r for r in page.row_order if r not in ("median", "industry") and ":" not in r]
        league = order[: len(stores)]
        ranked = sorted(stores, key=lambda k: (k["churn_rate"] is None, k["churn_rate"] or 0, k["store_code"]))
        assert league == [k["store_code"] for k in ranked], month
        for col, better_when in (("churn_rate", "lower"), ("cohort_retention_rate", "higher"),
                                 ("renewal_rate", "higher")):
            values = [k[col] for k in stores if k[col] is not None]
            median = statistics.median(values) if values else None
            assert text(page, "median", col) == formatting.rate(median), (month, col)
            for k in stores:
                classes = page.cells[(k["store_code"], col)]["class"].split()
                if median is None or k[col] is None or abs(k[col] - median) < 1e-12:
                    assert "worse" not in classes and "better" not in classes
                    continue
                above = k[col] > median
                expected = "worse" if above == (better_when == "lower") else "better"
                assert expected in classes, (month, k["store_code"], col, classes)
                checked_colours += 1
    assert checked_colours > 50


def test_group_cards_regions_and_transfers_equal_the_marts(group_pages, marts):
    group = rows(marts, "select * from marts.kpi_scope_month where scope_level = 'group' order by month_end")
    regions = rows(marts, "select * from marts.kpi_scope_month where scope_level = 'region'")
    stores = rows(marts, "select * from marts.kpi_store_month")
    assert group and regions
    for language, panels in group_pages.items():
        for g in group:
            _, page = panels[formatting.month(g["month_end"])]
            assert page.cards["on_file"]["text"] == f"{g['on_file']:,}"
            assert page.cards["churn_rate"]["text"] == formatting.rate(g["churn_rate"])
            assert page.cards["churn_rate"]["title"] == f"{g['churned']:,}/{g['on_file']:,}"
            assert page.cards["cohort_retention_rate"]["title"] == f"{g['cohort_returned']:,}/{g['cohort_size']:,}"
            assert page.cards["value_at_risk"]["text"] == formatting.money(g["value_at_risk"])
            assert page.cards["hidden_churn"]["text"] == f"{g['hidden_churn']:,}"
        for r in regions:
            _, page = panels[formatting.month(r["month_end"])]
            assert text(page, r["scope_code"], "on_file") == f"{r['on_file']:,}"
            assert text(page, r["scope_code"], "churn_rate") == formatting.rate(r["churn_rate"])
            assert title(page, r["scope_code"], "churn_rate") == f"{r['churned']:,}/{r['on_file']:,}"
        for k in stores:
            _, page = panels[formatting.month(k["month_end"])]
            # the transfers table repeats the store key; its cells are the last ones parsed
            assert title(page, k["store_code"], "churned_to_competitors") == (
                f"{k['churned_to_competitors']:,}/{k['churned']:,}")
            assert title(page, k["store_code"], "churned_group_transfers") == (
                f"{k['churned_group_transfers']:,}/{k['churned']:,}")


def test_vehicle_age_churn_against_the_industry_line(group_pages, marts):
    spans = rows(marts, """select * from marts.kpi_vehicle_age_churn_month
                           where scope_level in ('store', 'group')""")
    lines = dict(marts.execute("select distinct within_years, industry_churn_rate "
                               "from marts.kpi_vehicle_age_churn_month").fetchall())
    assert lines == {1: 0.05, 2: 0.08, 3: 0.12}
    above = 0
    for v in spans:
        _, page = group_pages["en"][formatting.month(v["month_end"])]
        key = f"{v['scope_level']}:{v['scope_code']}"
        col = f"within_{v['within_years']}"
        assert text(page, key, col) == formatting.rate(v["churn_rate"])
        assert title(page, key, col) == f"{v['churned']:,}/{v['vehicles_on_file']:,}"
        if v["is_above_industry_line"]:
            assert "worse" in page.cells[(key, col)]["class"]
            above += 1
        assert text(page, "industry", col) == formatting.rate(lines[v["within_years"]])
    assert spans


def test_both_languages_show_the_same_figures(group_pages):
    for month, (_, zh) in group_pages["zh"].items():
        _, en = group_pages["en"][month]
        # every cell but the row labels (a median row is "集团中位数" / "Group median")
        def figures(page):
            return {k: (v["text"].strip(), v["title"]) for k, v in page.cells.items() if k[1] != "store"}

        assert figures(zh) == figures(en), month
        assert len(figures(zh)) > 50
        assert {k: v["text"] for k, v in zh.cards.items()} == {k: v["text"] for k, v in en.cards.items()}


def test_trend_charts_draw_a_line_per_store_and_the_group(site, marts):
    html = (site / "index.html").read_text(encoding="utf-8")
    chart = html[html.index('class="chart group-churn-trend'):]
    chart = chart[: chart.index("</svg>")]
    stores = marts.execute("select count(distinct store_code) from marts.kpi_store_month").fetchone()[0]
    assert chart.count("<polyline") == stores + 1
    g = rows(marts, """select month_end, churned, on_file, churn_rate from marts.kpi_scope_month
                       where scope_level = 'group' order by month_end desc limit 1""")[0]
    assert (f"集团 {formatting.month(g['month_end'])}: {formatting.rate(g['churn_rate'])} "
            f"({g['churned']:,}/{g['on_file']:,})") in chart


# ------------------------------------------------------------ the dictionary


CJK = re.compile(r"[\u3400-\u9fff\uff00-\uffef]")


def _strings_outside_docstrings(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string literal of a module but its docstrings."""
    import ast

    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }
    return [(n.lineno, n.value) for n in ast.walk(tree)
            if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings]


def test_every_label_comes_from_the_one_dictionary():
    """No Chinese label is written into a template or the code that draws the
    pages: it all comes from labels.yml, which gives both languages."""
    for path in TEMPLATES_DIR.glob("*.html"):
        body = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.S)
        found = CJK.findall(body)
        assert not found, f"templates/{path.name} has text outside labels.yml: {''.join(found[:20])}"
    for path in [*(PACKAGE_DIR / "pages").glob("*.py"), *(PACKAGE_DIR / n for n in ("site.py", "render.py", "charts.py"))]:
        for line, value in _strings_outside_docstrings(path):
            assert not CJK.search(value), f"{path.name}:{line} has text outside labels.yml: {value}"
    labels = load_labels()
    assert len(labels) > 80
    used = set()
    for path in [*TEMPLATES_DIR.glob("*.html"), *(PACKAGE_DIR / "pages").glob("*.py")]:
        used |= set(re.findall(r"""\bt\(\s*['"]([a-z_]+\.[a-z0-9_.]+)['"]""", path.read_text(encoding="utf-8")))
    # a key built from a prefix (t('store.dimension.' ~ name)) is checked on the rendered pages
    missing = sorted(k for k in used - set(labels) if not k.endswith("."))
    assert not missing, f"keys used but not in labels.yml: {missing}"
    for key, texts in labels.items():
        assert set(texts) == set(LANGUAGES) and all(v.strip() for v in texts.values()), key


def test_a_missing_label_is_an_error_not_a_blank():
    t = Translator("en")
    assert t("kpi.churn_rate") == "Churn rate"
    assert Translator("zh")("kpi.churn_rate") == "流失率"
    assert t("group.median", stores=3) == "Group median (3 stores)"
    with pytest.raises(LabelError, match="no.such_key"):
        t("no.such_key")
    assert t.value("no_prefix", "A4L") == "A4L"  # a model name shows as it is


def test_a_label_given_twice_is_an_error(tmp_path):
    """Plain YAML would keep the second silently: two pages' blocks naming the
    same enumeration value differently must not pass unnoticed."""
    twice = tmp_path / "labels.yml"
    twice.write_text("kpi.x: {zh: 甲, en: A}\nkpi.y: {zh: 乙, en: B}\nkpi.x: {zh: 丙, en: C}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"labels.yml:3: label 'kpi.x' is given twice"):
        load_labels(twice)
    one_language = tmp_path / "one.yml"
    one_language.write_text("kpi.x: {zh: 甲}\n", encoding="utf-8")
    with pytest.raises(ValueError, match="must give exactly zh, en"):
        load_labels(one_language)


# --------------------------------------------------------------- the build


def test_pages_use_only_their_own_files(site):
    pages = list(site.rglob("*.html"))
    assert len(pages) >= 10
    for path in [*pages, *site.rglob("*.css"), *site.rglob("*.js")]:
        body = path.read_text(encoding="utf-8")
        assert "http://" not in body and "https://" not in body and "@import" not in body, path
    for page in pages:
        for link in parse(page.read_text(encoding="utf-8")).links:
            assert link.startswith("data:") or not re.match(r"^[a-z][a-z0-9+.-]*:", link), (page, link)
            if not link.startswith("data:"):
                target = (page.parent / link.split("#")[0]).resolve()
                # the docs sites are outside the build folder and may not be built
                if "data_docs" not in link and "dbt_docs" not in link:
                    assert target.exists(), (page, link)


def test_every_section_names_its_query_and_the_query_exists(site):
    html = (site / "index.html").read_text(encoding="utf-8")
    named = set(re.findall(r'queries/([a-z_]+)\.sql"', html))
    assert {"group_headline", "group_league_table", "group_store_medians", "group_regions",
            "group_vehicle_age", "group_churn_trend", "group_loss_kinds"} <= named
    for name in named:
        assert (site / "queries" / f"{name}.sql").read_text(encoding="utf-8") == (
            QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8")


def test_queries_read_only_the_published_interface():
    cte = re.compile(r"\b([a-z_][a-z0-9_]*)\s+as\s*\(", re.I)
    source = re.compile(r"\b(?:from|join)\s+([a-z_][a-z0-9_.]*)", re.I)
    files = sorted(QUERIES_DIR.glob("*.sql"))
    assert len(files) >= 15
    for path in files:
        sql = re.sub(r"--[^\n]*", "", path.read_text(encoding="utf-8"))
        local = {m.lower() for m in cte.findall(sql)}
        for name in source.findall(sql):
            assert name.startswith(("marts.", "ops.")) or name.lower() in local, (path.name, name)
            if name.startswith("marts."):
                assert name.split(".")[1] in MART_COLUMNS, (path.name, name)
        assert not re.search(r"\b(insert|update|delete|create|drop|alter|copy|attach)\b", sql, re.I), path.name


def test_every_column_the_queries_use_is_in_the_marts_schema():
    """Each query of the marts runs against empty tables created from the dbt
    contracts: DuckDB's binder rejects any column the SQL reads that they lack."""
    con = duckdb.connect()
    try:
        create_mart_tables(con)
        with pytest.raises(duckdb.BinderException):
            con.execute("select k.no_such_column from marts.kpi_store_month k")
        for path in sorted(QUERIES_DIR.glob("*.sql")):
            sql = path.read_text(encoding="utf-8")
            if re.search(r"\bops\.", sql):
                continue  # the validation log is not a mart (tests/test_dashboards_data_quality.py)
            params = {p: None for p in set(re.findall(r"\$([a-z_][a-z0-9_]*)", sql, re.I))}
            try:
                con.execute(sql, params) if params else con.execute(sql)
            except duckdb.BinderException as exc:
                pytest.fail(f"queries/{path.name} reads a column the marts lack: {exc}")
    finally:
        con.close()


@pytest.fixture
def warehouse_copy(demo_build, tmp_path) -> Path:
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_build.warehouse, copy)
    return copy


def test_warehouse_is_read_only_and_released(warehouse_copy: Path, tmp_path: Path):
    before = hashlib.sha256(warehouse_copy.read_bytes()).hexdigest()
    render_dashboards(warehouse_copy, tmp_path / "site")
    assert hashlib.sha256(warehouse_copy.read_bytes()).hexdigest() == before
    assert not warehouse_copy.with_name(warehouse_copy.name + ".wal").exists()
    with duckdb.connect(str(warehouse_copy)) as con:  # a writer can open it right away
        con.execute("delete from marts.dim_stores where store_code = 'none'")


def test_rerender_drops_the_pages_of_a_store_gone_from_the_marts(warehouse_copy: Path, tmp_path: Path):
    site = tmp_path / "site"
    first = render_dashboards(warehouse_copy, site)
    gone = sorted(first.store_pages)[-1]
    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute("delete from marts.dim_stores where store_code = ?", [gone])
        con.execute("delete from marts.kpi_store_month where store_code = ?", [gone])
    second = render_dashboards(warehouse_copy, site)
    assert gone not in second.store_pages and len(second.store_pages) == len(first.store_pages) - 1
    for folder in (site, site / "en"):
        assert not (folder / "stores" / f"{gone}.html").exists()
        assert not (folder / "call_lists" / f"{gone}.html").exists()
    assert set(site.rglob("*.html")) == set(second.pages)


GENERATED_AT = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}( [A-Z+\-0-9]+)?")


def _site_text(site: Path) -> dict[str, str]:
    """Every page of a build folder, its generated-at time blanked."""
    return {p.relative_to(site).as_posix(): GENERATED_AT.sub("<t>", p.read_text(encoding="utf-8"))
            for p in sorted(site.rglob("*.html"))}


def test_a_rerender_renders_only_the_month_panels_whose_rows_changed(warehouse_copy: Path, tmp_path: Path):
    cache = tmp_path / "panels"
    with duckdb.connect(str(warehouse_copy), read_only=True) as con:
        stores, months = con.execute(
            "select count(distinct store_code), count(distinct month_end) from marts.kpi_store_month").fetchone()
        store, month, revenue = con.execute(
            "select store_code, month_end, revenue from marts.kpi_store_month "
            "where month_end < (select max(month_end) from marts.kpi_store_month) and revenue > 0 "
            "order by store_code, month_end limit 1").fetchone()
    # A panel per month and language on each store page with data and on the group overview.
    panels = (stores + 1) * months * len(LANGUAGES)
    first = render_dashboards(warehouse_copy, tmp_path / "first", panel_cache_dir=cache)
    assert (first.panels_rendered, first.panels_reused) == (panels, 0)
    group_file = store_file_name(GROUP_PANELS).removesuffix(".html") + ".pickle"
    assert {p.name for p in cache.iterdir()} == {f"{code}.pickle" for code in first.store_pages} | {group_file}
    second = render_dashboards(warehouse_copy, tmp_path / "second", panel_cache_dir=cache)
    assert (second.panels_rendered, second.panels_reused) == (0, panels)
    uncached = render_dashboards(warehouse_copy, tmp_path / "uncached")
    assert (uncached.panels_rendered, uncached.panels_reused) == (panels, 0)
    assert _site_text(tmp_path / "second") == _site_text(tmp_path / "first") == _site_text(tmp_path / "uncached")

    # One store-month's revenue changes: its panel and the group overview's panel of that month (the
    # league table shows the store's per-ticket value), in each language, are rendered again; the
    # pages are what a render without kept panels makes of the changed marts.
    with duckdb.connect(str(warehouse_copy)) as con:
        con.execute("update marts.kpi_store_month set revenue = revenue + 1000 where store_code = ? and month_end = ?",
                    [store, month])
    third = render_dashboards(warehouse_copy, tmp_path / "third", panel_cache_dir=cache)
    assert (third.panels_rendered, third.panels_reused) == (2 * len(LANGUAGES), panels - 2 * len(LANGUAGES))
    render_dashboards(warehouse_copy, tmp_path / "uncached_changed")
    assert _site_text(tmp_path / "third") == _site_text(tmp_path / "uncached_changed")
    page = third.store_pages[store].read_text(encoding="utf-8")
    panel = page[page.index(f'data-month-panel="{formatting.month(month)}"'):]
    panel = panel[:panel.index('<div class="month"') if '<div class="month"' in panel else None]
    card = panel[panel.index('data-kpi="revenue"'):][:400]
    assert f'<div class="value">{formatting.money(revenue + 1000)}</div>' in card

    # A panel cache written by other code is not read: everything is rendered again.
    for path in cache.iterdir():
        path.write_bytes(pickle.dumps({"code": "other code", "panels": {}}))
    assert render_dashboards(warehouse_copy, tmp_path / "fourth", panel_cache_dir=cache).panels_rendered == panels


def test_empty_marts_render_without_error(tmp_path: Path):
    warehouse = tmp_path / "empty.duckdb"
    with duckdb.connect(str(warehouse)) as con:
        create_mart_tables(con)
    result = render_dashboards(warehouse, tmp_path / "site")
    assert result.store_pages == {}
    assert "No KPI rows yet" in (tmp_path / "site" / "en" / "index.html").read_text(encoding="utf-8")


def test_missing_warehouse_or_marts_is_a_clear_error(tmp_path: Path):
    with pytest.raises(DashboardError, match="does not exist"):
        render_dashboards(tmp_path / "nope.duckdb", tmp_path / "site")
    bare = tmp_path / "bare.duckdb"
    duckdb.connect(str(bare)).close()
    with pytest.raises(DashboardError, match=r"lacks marts\.dim_stores.*dbt build"):
        render_dashboards(bare, tmp_path / "site")


def test_locked_warehouse_is_a_clear_error(warehouse_copy: Path, tmp_path: Path):
    # A writer in another process holds the lock (same-process connections share it).
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('ok', flush=True); time.sleep(60)",
         str(warehouse_copy)],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        with pytest.raises(DashboardError, match="locked"):
            render_dashboards(warehouse_copy, tmp_path / "site")
    finally:
        holder.kill()
        holder.wait()


def test_cli(warehouse_copy: Path, tmp_path: Path, capsys):
    assert render.main(["--warehouse", str(warehouse_copy), "--out", str(tmp_path / "cli")]) == 0
    out = capsys.readouterr().out
    assert f"group page {tmp_path / 'cli' / 'index.html'}" in out
    assert render.main(["--warehouse", str(tmp_path / "missing.duckdb"), "--out", str(tmp_path / "x")]) == 1
    assert "does not exist" in capsys.readouterr().err


# ---------------------------------------------------------- building blocks


def test_charts_use_a_month_calendar():
    # a month missing from the marts is a gap on the axis, not a shortcut
    axis = month_axis([date(2023, 11, 30), date(2024, 2, 29), date(2023, 12, 31)])
    assert axis == [date(2023, 11, 30), date(2023, 12, 31), date(2024, 1, 31), date(2024, 2, 29)]
    aligned = Aligned([{"month_end": date(2023, 12, 31), "x": 1}], axis)
    assert aligned.values("x") == [None, 1, None, None]


def test_store_file_names_are_safe():
    assert store_file_name("S001") == "S001.html"
    odd = store_file_name("上海/01")
    assert "/" not in odd and odd.endswith(".html") and odd != store_file_name("上海/02")


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
    assert charts.nice_ticks(0, 0.25) == [0.0, 0.05, 0.1, 0.15, 0.2, 0.25]
