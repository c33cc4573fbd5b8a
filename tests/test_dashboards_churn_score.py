"""The churn risk score on the store and group pages against the score marts.

A generated landing long enough to score (tests/score_landing.py) goes
through the real pipeline once for the module. The figures on the pages are
compared with values computed here from marts.churn_scores,
marts.churn_score_calibration and marts.churn_score_backtest with pandas and
formatted here; a one-year landing (too short to score) shows that no month
is scored yet, and a warehouse without the score marts says so. A
headless Chromium opens the pages (skipped without it).
"""

from __future__ import annotations

import math
import shutil

import duckdb
import pandas as pd
import pytest
from browser import LOCAL_SCHEMES, chromium, needs_chromium, open_page, requests
from test_dashboards import parse, text, title

from dashboards.render import render_dashboards

# ------------------------------------------------------------ formats, here


def money(v) -> str:
    return f"¥{v:,.2f}"


def pct(v) -> str:
    return f"{v * 100:.1f}%"


def three(v) -> str:
    return "—" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.3f}"


def month(v) -> str:
    return pd.Timestamp(v).strftime("%Y-%m")


# ------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def build(score_build):
    """(warehouse, pages folder) after the shared run of the score landing."""
    return score_build.warehouse, score_build.dashboards


@pytest.fixture(scope="module")
def marts(build):
    with duckdb.connect(str(build[0]), read_only=True) as con:
        return {
            "scores": con.execute("select * from marts.churn_scores").df(),
            "calibration": con.execute("select * from marts.churn_score_calibration").df(),
            "backtest": con.execute("select * from marts.churn_score_backtest").df(),
            "stores": con.execute("select store_code from marts.dim_stores order by 1").df()["store_code"].tolist(),
        }


def store_section(build, code: str, lang: str = ""):
    html = (build[1] / lang / "stores" / f"{code}.html").read_text(encoding="utf-8")
    start = html.index('<section id="churn-score"')
    return html[start:html.index("</section>", start)]


# ------------------------------------------------------------------ store page


def test_the_risk_distribution_is_the_latest_scored_month_by_band(build, marts):
    scores = marts["scores"]
    for code in marts["stores"]:
        store = scores[scores["store_code"] == code]
        latest = store[store["month_end"] == store["month_end"].max()].copy()
        latest["band"] = [min(int(p * 10), 9) for p in latest["p_return"]]
        page = parse(store_section(build, code))
        assert f"Risk distribution ({month(latest['month_end'].iloc[0])})" in store_section(build, code, "en")
        for band in range(10):
            rows = latest[latest["band"] == band]
            key = f"band:{band}"
            assert text(page, key, "band") == f"{band / 10:.1f}–{(band + 1) / 10:.1f}"
            assert text(page, key, "customers") == f"{len(rows):,}"
            assert title(page, key, "share") == f"{len(rows):,}/{len(latest):,}"
            assert text(page, key, "annual_spend") == money(sum(rows["annual_spend"], start=0))
            assert text(page, key, "expected_value_at_risk") == money(sum(rows["expected_value_at_risk"], start=0))
        assert latest["band"].nunique() >= 5  # the landing spreads the scores: the table is not trivially empty


def test_the_calibration_is_the_latest_complete_month_with_the_diagonal(build, marts):
    calibration = marts["calibration"]
    for code in marts["stores"]:
        store = calibration[(calibration["scope_level"] == "store") & (calibration["scope_code"] == code)]
        latest = store[store["month_end"] == store["month_end"].max()]
        # the latest scored month whose six months have passed
        scores = marts["scores"]
        complete = scores[(scores["store_code"] == code) & scores["label_complete"]]
        assert latest["month_end"].iloc[0] == complete["month_end"].max()
        section = store_section(build, code)
        page = parse(section)
        for r in latest.itertuples():
            deciled = complete[complete["month_end"] == r.month_end].sort_values("p_return")
            key = f"decile:{r.decile}"
            assert text(page, key, "customers") == f"{r.customers:,}"
            assert text(page, key, "mean_p_return") == pct(r.mean_p_return)
            assert text(page, key, "observed_return_rate") == pct(r.returned / r.customers)
            assert title(page, key, "observed_return_rate") == f"{r.returned:,}/{r.customers:,}"
        assert sum(latest["customers"]) == len(deciled)
        chart = section[section.index('<svg class="chart calibration"'):]
        chart = chart[:chart.index("</svg>")]
        assert chart.count("<circle") == len(latest) == 10
        assert 'class="diagonal"' in chart


def test_the_backtest_shows_the_latest_month_and_the_mean_against_rule_and_recency(build, marts):
    backtest = marts["backtest"]
    for code in marts["stores"]:
        store = backtest[(backtest["scope_level"] == "store") & (backtest["scope_code"] == code)]
        latest = store[store["month_end"] == store["month_end"].max()].iloc[0]
        page = parse(store_section(build, code, "en"))
        assert text(page, "latest", "period") == month(latest["month_end"])
        assert text(page, "latest", "customers") == f"{latest['customers']:,}"
        assert text(page, "latest", "returned") == f"{latest['returned']:,}"
        assert text(page, "latest", "base_rate") == pct(latest["returned"] / latest["customers"])
        assert title(page, "latest", "base_rate") == f"{latest['returned']:,}/{latest['customers']:,}"
        for column in ("score_auc", "fixed_rule_auc", "recency_auc", "score_brier", "fixed_rule_brier",
                       "base_rate_brier"):
            assert text(page, "latest", column) == three(latest[column]), column
            assert text(page, "mean", column) == three(store[column].mean()), column
        assert text(page, "mean", "customers") == f"{store['customers'].sum():,}"
        assert text(page, "mean", "base_rate") == pct((store["returned"] / store["customers"]).mean())
        assert text(page, "mean", "period") == \
            f"Mean {month(store['month_end'].min())} – {month(store['month_end'].max())} ({len(store)} monthly rates averaged, customers summed)"


# ------------------------------------------------------------------ group page


def test_the_group_page_shows_each_stores_auc_against_rule_and_recency(build, marts):
    backtest = marts["backtest"]
    latest = backtest[backtest["month_end"] == backtest["month_end"].max()]
    html = (build[1] / "index.html").read_text(encoding="utf-8")
    section = html[html.index('<section id="churn-score"'):]
    page = parse(section)
    assert f"({month(latest['month_end'].iloc[0])})" in section
    shown = [row for row in page.row_order if row.startswith(("store:", "group:"))]
    group_code = latest[latest["scope_level"] == "group"]["scope_code"].iloc[0]
    assert shown == [f"store:{code}" for code in marts["stores"]] + [f"group:{group_code}"]
    for r in latest[latest["scope_level"].isin(["store", "group"])].itertuples():
        key = f"{r.scope_level}:{r.scope_code}"
        assert text(page, key, "customers") == f"{r.customers:,}"
        assert title(page, key, "base_rate") == f"{r.returned:,}/{r.customers:,}"
        for column in ("score_auc", "fixed_rule_auc", "recency_auc", "score_brier", "fixed_rule_brier"):
            assert text(page, key, column) == three(getattr(r, column)), (key, column)
    chart = section[section.index('<svg class="chart score-auc"'):]
    assert chart[:chart.index("</svg>")].count("<rect") >= 3 * len(marts["stores"])


# ------------------------------------------------------------ nothing scored


@pytest.fixture(scope="module")
def short_build(tmp_path_factory):
    """(warehouse, pages folder) of a one-year landing: too short to score."""
    from orchestration.pipeline import run_pipeline
    from sources.demo import generate_landing

    root = tmp_path_factory.mktemp("score_pages_short")
    generate_landing(root / "landing", seed=7, stores=1, years=1, vehicles_per_store=40, daily_days=5)
    summary = run_pipeline(landing=root / "landing", warehouse=root / "wh.duckdb", dashboards_dir=root / "dash",
                           data_docs_dir=root / "docs")
    assert summary.exit_code == 0, summary.errors
    return root / "wh.duckdb", root / "dash"


def test_a_landing_too_short_to_score_says_no_month_is_scored_yet(short_build):
    with duckdb.connect(str(short_build[0]), read_only=True) as con:
        assert con.execute("select count(*) from marts.churn_scores").fetchone()[0] == 0
        assert con.execute("select count(*) from marts.churn_score_backtest").fetchone()[0] == 0
        stores = [r[0] for r in con.execute("select store_code from marts.dim_stores order by 1").fetchall()]
    for lang, words in (("", "暂无评分"), ("en", "No scores yet")):
        group = (short_build[1] / lang / "index.html").read_text(encoding="utf-8")
        section = group[group.index('<section id="churn-score"'):]
        assert 'data-row="no-scores"' in section and words in section and "<svg" not in section
        for code in stores:
            html = store_section(short_build, code, lang)
            assert 'data-row="no-scores"' in html and words in html and "<svg" not in html


def test_a_warehouse_without_the_score_marts_says_so(short_build, tmp_path):
    old = tmp_path / "old.duckdb"
    shutil.copyfile(short_build[0], old)
    with duckdb.connect(str(old)) as con:
        kinds = dict(con.execute("select table_name, table_type from information_schema.tables "
                                 "where table_schema = 'marts' and table_name like 'churn_score%'").fetchall())
        for name, kind in kinds.items():
            con.execute(f"drop {'view' if kind == 'VIEW' else 'table'} marts.{name}")
    assert len(kinds) == 3
    render_dashboards(old, tmp_path / "dash")
    group = (tmp_path / "dash" / "en" / "index.html").read_text(encoding="utf-8")
    assert 'data-row="score-missing"' in group and "marts.churn_scores" in group
    html = next((tmp_path / "dash" / "en" / "stores").glob("*.html")).read_text(encoding="utf-8")
    assert "Not available in this warehouse (marts.churn_scores, marts.churn_score_backtest" in html


# --------------------------------------------------------------- in a browser


@needs_chromium
def test_the_score_sections_load_offline_in_a_browser_with_their_charts(build, marts, tmp_path):
    from selenium.webdriver.common.by import By

    root = build[1]
    code = marts["stores"][0]
    pages = [root / "index.html", root / "en" / "index.html", root / "stores" / f"{code}.html",
             root / "en" / "stores" / f"{code}.html"]
    with chromium(tmp_path / "profile") as driver:
        for path in pages:
            open_page(driver, path)
            severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            assert severe == [], (path, severe)
            network = [u for u, _ in requests(driver) if not u.startswith(LOCAL_SCHEMES)]
            assert network == [], (path, network)
            section = driver.find_element(By.CSS_SELECTOR, "#churn-score")
            wanted = ("score-auc",) if path.name == "index.html" else ("score-distribution", "calibration")
            for css in wanted:
                svg = section.find_element(By.CSS_SELECTOR, f"svg.chart.{css}")
                assert svg.is_displayed() and svg.size["width"] > 100 and svg.size["height"] > 50, (path, css)
