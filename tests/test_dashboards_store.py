"""The store pages (stores/<code>.html) against the marts of a warehouse the
real pipeline built (the session's demo build).

The expected figures are read straight from the marts with SQL written here,
not with the page's own query files, and formatted here; the pages are parsed
into a small element tree. For every store, in both languages and in every
month panel: the status funnel, the headline cards, the breakdown tables of
each dimension, the survey reasons and destinations.
"""

from __future__ import annotations

import html
import re
import shutil
from collections import defaultdict
from datetime import date
from decimal import Decimal

import duckdb
import pytest
from page_tree import Element, read

from dashboards.i18n import Translator
from dashboards.pages import store as store_page
from dashboards.render import render_dashboards
from dashboards.site import rate_td, value_td

BREAKDOWN_DIMENSIONS = ("vehicle_model", "customer_type", "district", "last_service_type", "annual_spend_band")
CODED_DIMENSIONS = {"customer_type": "customer_type", "last_service_type": "service_type",
                    "annual_spend_band": "spend_band"}
FUNNEL = ("on_file", "active", "at_risk", "churned", "hidden_churn")


# ------------------------------------------------------------------ formats
# What the page must show, written out here (SPEC: rates as 12.3%, counts
# with thousands separators, money as ¥1,234.50, a NULL as an em dash).


def n(value) -> str:
    return "—" if value is None else f"{int(value):,}"


def pct(value) -> str:
    return "—" if value is None or value != value else f"{float(value) * 100:.1f}%"


def yuan(value) -> str:
    return "—" if value is None else f"¥{Decimal(value):,.2f}"


def frac(num, den) -> str:
    return f"{n(num)}/{n(den)}"


# ----------------------------------------------------------------- fixtures


def month_key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


@pytest.fixture(scope="module")
def built(demo_build, tmp_path_factory):
    out = tmp_path_factory.mktemp("store_pages")
    result = render_dashboards(demo_build.warehouse, out)
    return out, result


@pytest.fixture(scope="module")
def marts(demo_build):
    """Everything the store pages show, read from the marts with plain SQL."""
    with duckdb.connect(str(demo_build.warehouse), read_only=True) as con:
        def rows(sql: str) -> list[dict]:
            cur = con.execute(sql)
            cols = [d[0] for d in cur.description]
            return [dict(zip(cols, r)) for r in cur.fetchall()]

        kpis = rows("select * from marts.kpi_store_month")
        breakdowns = rows(
            "select scope_code, month_end, dimension, dimension_value, on_file, at_risk, churned, hidden_churn, "
            "churned_annual_spend, on_file_annual_spend from marts.kpi_churn_breakdown_month "
            "where scope_level = 'store'"
        )
        reasons = rows(
            "select scope_code, month_end, reason, responses, reached_surveys, confirmed_lost_responses "
            "from marts.kpi_survey_reasons_month where scope_level = 'store'"
        )
        destinations = rows(
            "select scope_code, month_end, destination, responses, reached_surveys, confirmed_lost "
            "from marts.kpi_survey_destinations_month where scope_level = 'store'"
        )
        stores = [r[0] for r in con.execute(
            "select store_code from marts.dim_stores order by region nulls last, store_code").fetchall()]
    data = {
        "kpi": {(r["store_code"], month_key(r["month_end"])): r for r in kpis},
        "months": sorted({month_key(r["month_end"]) for r in kpis}),
        "stores": stores,
        "breakdowns": defaultdict(dict),
        "reasons": defaultdict(dict),
        "destinations": defaultdict(dict),
    }
    for r in breakdowns:
        data["breakdowns"][(r["scope_code"], month_key(r["month_end"]), r["dimension"])][r["dimension_value"]] = r
    for r in reasons:
        data["reasons"][(r["scope_code"], month_key(r["month_end"]))][r["reason"]] = r
    for r in destinations:
        data["destinations"][(r["scope_code"], month_key(r["month_end"]))][r["destination"]] = r
    return data


@pytest.fixture(scope="module")
def pages(built, marts):
    """(store, language) -> parsed page."""
    out, _ = built
    return {(code, lang): read(out / ("" if lang == "zh" else "en/") / "stores" / f"{code}.html")
            for code in marts["stores"] for lang in ("zh", "en")}


def panels(page: Element) -> dict[str, Element]:
    return {p.attrs["data-month-panel"]: p for p in page.find_all(data_month_panel=True)}


# -------------------------------------------------------------------- tests


def test_every_store_has_a_page_per_language(built, marts):
    out, result = built
    assert len(marts["stores"]) == 3
    assert sorted(result.store_pages) == sorted(marts["stores"])
    for code in marts["stores"]:
        assert (out / "stores" / f"{code}.html").is_file()
        assert (out / "en" / "stores" / f"{code}.html").is_file()


def test_every_month_has_a_panel_and_only_the_latest_shows_without_script(pages, marts):
    latest = marts["months"][-1]
    for (code, lang), page in pages.items():
        found = panels(page)
        assert sorted(found) == marts["months"], (code, lang)
        visible = [key for key, p in found.items() if "hidden" not in p.attrs]
        assert visible == [latest], (code, lang)
        assert page.first("body").attrs["data-latest-month"] == latest


def test_funnel_counts_and_shares_equal_the_marts_in_every_month(pages, marts):
    checked = 0
    for (code, lang), page in pages.items():
        for key, panel in panels(page).items():
            k = marts["kpi"].get((code, key))
            if k is None:
                assert panel.first(data_row="no-month-row") is not None
                continue
            steps = {s.attrs["data-step"]: s for s in panel.find_all("div", data_step=True)}
            assert list(steps) == list(FUNNEL), (code, lang, key)
            for step in FUNNEL:
                cells = steps[step].cells()
                assert cells["count"][0] == n(k[step]), (code, lang, key, step)
                assert cells["share"][1] == frac(k[step], k["on_file"]), (code, lang, key, step)
                share = k[step] / k["on_file"] if k["on_file"] else None
                assert cells["share"][0] == pct(share), (code, lang, key, step)
            # the churned step's share is the churn rate of the mart
            assert steps["churned"].cells()["share"][0] == pct(k["churn_rate"])
            assert k["active"] + k["at_risk"] + k["churned"] == k["on_file"]
            checked += 1
    assert checked >= 3 * 2 * 12


def card(panel: Element, kpi: str) -> tuple[str, str | None, str]:
    node = panel.first("div", data_kpi=kpi)
    assert node is not None, kpi
    value = node.first("div", **{"class": "value"}).clean()
    detail = node.first("div", **{"class": "detail"})
    return value, node.attrs.get("title"), detail.clean() if detail else ""


def test_headline_cards_equal_the_marts_with_numerator_and_denominator(pages, marts):
    for (code, lang), page in pages.items():
        for key, panel in panels(page).items():
            k = marts["kpi"].get((code, key))
            if k is None:
                continue
            where = (code, lang, key)
            assert card(panel, "churn_rate")[:2] == (pct(k["churn_rate"]), frac(k["churned"], k["on_file"])), where
            assert card(panel, "value_weighted_churn_rate")[:2] == (
                pct(k["value_weighted_churn_rate"]),
                f"{yuan(k['churned_annual_spend'])}/{yuan(k['on_file_annual_spend'])}"), where
            assert card(panel, "cohort_retention_rate")[:2] == (
                pct(k["cohort_retention_rate"]), frac(k["cohort_returned"], k["cohort_size"])), where
            assert card(panel, "per_ticket_value")[:2] == (
                yuan(k["per_ticket_value"]), f"{yuan(k['revenue'])}/{n(k['paid_visits'])}"), where
            assert card(panel, "labor_parts_ratio")[1] == f"{yuan(k['parts_amount'])}/{yuan(k['labor_amount'])}"
            assert card(panel, "gross_margin")[:2] == (
                pct(k["gross_margin"]), f"{yuan(k['gross_profit'])}/{yuan(k['revenue'])}"), where
            assert card(panel, "renewal_rate")[:2] == (
                pct(k["renewal_rate"]), frac(k["policies_renewed"], k["policies_expiring"])), where
            # win-back rate = won back after the survey / eligible reached surveys
            value, title, detail = card(panel, "win_back_rate")
            expected_rate = (k["won_back_after_survey"] / k["win_back_eligible"]) if k["win_back_eligible"] else None
            assert value == pct(expected_rate) == pct(k["win_back_rate"]), where
            assert title == frac(k["won_back_after_survey"], k["win_back_eligible"]), where
            assert n(k["win_back_pending"]) in detail, where
            assert card(panel, "value_at_risk")[0] == yuan(k["value_at_risk"]), where
            assert card(panel, "lifetime_value_lost")[0] == yuan(k["lifetime_value_lost"]), where


def test_breakdown_rows_equal_the_marts_for_every_dimension_and_month(pages, marts):
    rows_checked = 0
    for (code, lang), page in pages.items():
        t = Translator(lang)
        for key, panel in panels(page).items():
            if (code, key) not in marts["kpi"]:
                continue
            for dimension in BREAKDOWN_DIMENSIONS:
                expected = marts["breakdowns"].get((code, key, dimension), {})
                table = panel.first("table", data_dimension=dimension)
                if not expected:
                    assert table is None, (code, lang, key, dimension)
                    continue
                assert table is not None, (code, lang, key, dimension)
                shown = {tr.attrs["data-value"]: tr for tr in table.find_all("tr", data_value=True)}
                assert set(shown) == set(expected), (code, lang, key, dimension)
                assert sum(r["on_file"] for r in expected.values()) == marts["kpi"][(code, key)]["on_file"]
                for value, r in expected.items():
                    cells = shown[value].cells()
                    where = (code, lang, key, dimension, value)
                    assert cells["on_file"][0] == n(r["on_file"]), where
                    assert cells["at_risk"][0] == n(r["at_risk"]), where
                    assert cells["churned"][0] == n(r["churned"]), where
                    assert cells["hidden_churn"][0] == n(r["hidden_churn"]), where
                    assert cells["churn_rate"] == (pct(r["churned"] / r["on_file"] if r["on_file"] else None),
                                                   frac(r["churned"], r["on_file"])), where
                    assert cells["value_weighted_churn_rate"][1] == (
                        f"{yuan(r['churned_annual_spend'])}/{yuan(r['on_file_annual_spend'])}"), where
                    # codes are labelled through the dictionary, names shown as they are
                    label = cells["value"][0]
                    if dimension in CODED_DIMENSIONS:
                        assert label == t.value(CODED_DIMENSIONS[dimension], value), where
                        assert label != value, where
                    elif value != "unknown":
                        assert label == value, where
                    rows_checked += 1
    assert rows_checked > 500


def test_survey_reasons_destinations_and_counts_equal_the_marts(pages, marts):
    months_with_surveys = 0
    for (code, lang), page in pages.items():
        for key, panel in panels(page).items():
            k = marts["kpi"].get((code, key))
            if k is None:
                continue
            where = (code, lang, key)
            assert card(panel, "surveys")[0] == n(k["surveys"]), where
            assert card(panel, "reached_surveys")[:2] == (n(k["reached_surveys"]), frac(k["reached_surveys"], k["surveys"]))
            assert card(panel, "confirmed_lost")[:2] == (n(k["confirmed_lost"]), frac(k["confirmed_lost"], k["reached_surveys"]))
            reasons = marts["reasons"].get((code, key), {})
            shown = {tr.attrs["data-reason"]: tr.cells() for tr in panel.find_all("tr", data_reason=True)}
            assert set(shown) == set(reasons), where
            for reason, r in reasons.items():
                assert shown[reason]["responses"][0] == n(r["responses"]), (where, reason)
                assert shown[reason]["share"] == (pct(r["responses"] / r["reached_surveys"]),
                                                  frac(r["responses"], r["reached_surveys"])), (where, reason)
                assert r["reached_surveys"] == k["reached_surveys"], (where, reason)
                assert shown[reason]["confirmed_lost"][0] == n(r["confirmed_lost_responses"]), (where, reason)
            destinations = marts["destinations"].get((code, key), {})
            shown = {tr.attrs["data-destination"]: tr.cells() for tr in panel.find_all("tr", data_destination=True)}
            assert set(shown) == set(destinations), where
            for destination, r in destinations.items():
                assert shown[destination]["responses"][0] == n(r["responses"]), (where, destination)
                assert shown[destination]["share"][1] == frac(r["responses"], r["reached_surveys"])
                assert shown[destination]["confirmed_lost"][0] == n(r["confirmed_lost"]), (where, destination)
            months_with_surveys += bool(reasons)
    assert months_with_surveys > 0


def figures(page: Element) -> list:
    """Every number on a page with where it sits, but no words: the same in both languages."""
    out = []
    for node in page.iter():
        if "data-col" in node.attrs:
            out.append((node.attrs["data-col"], node.clean() if node.attrs["data-col"] not in
                        ("value", "reason", "destination", "loss_type", "period") else "", node.attrs.get("title")))
        for attr in ("data-month-panel", "data-step", "data-dimension", "data-value", "data-reason",
                     "data-destination", "data-kpi", "data-loss-type", "hidden"):
            if attr in node.attrs:
                out.append((attr, node.attrs[attr]))
        if "data-kpi" in node.attrs:
            out.append(("kpi", node.first("div", **{"class": "value"}).clean(), node.attrs.get("title")))
    return out


def test_both_languages_show_the_same_figures(pages, marts):
    for code in marts["stores"]:
        zh, en = pages[(code, "zh")], pages[(code, "en")]
        assert figures(zh) == figures(en), code
        assert zh.first("html").attrs["lang"] == "zh-CN" and en.first("html").attrs["lang"] == "en"
        # and the words are the dictionary's, in each language
        for lang, page in (("zh", zh), ("en", en)):
            t = Translator(lang)
            latest = panels(page)[marts["months"][-1]]
            assert latest.first("div", data_kpi="win_back_rate").first("div", **{"class": "label"}).clean() == \
                t("kpi.win_back_rate")
            assert latest.first("div", data_step="hidden_churn").first("span", **{"class": "label"}).clean() == \
                t("store.funnel_hidden")


def test_call_list_link_and_store_navigation(pages, marts):
    order = marts["stores"]
    for lang in ("zh", "en"):
        for i, code in enumerate(order):
            page = pages[(code, lang)]
            link = page.first("a", data_nav="call-list")
            assert link.attrs["href"] == f"../call_lists/{code}.html" and "data-keep-filters" in link.attrs
            prev, nxt = page.first("a", data_nav="prev"), page.first("a", data_nav="next")
            if i == 0:
                assert prev is None
            else:
                assert prev.attrs["href"] == f"../stores/{order[i - 1]}.html" and "data-keep-filters" in prev.attrs
            if i == len(order) - 1:
                assert nxt is None
            else:
                assert nxt.attrs["href"] == f"../stores/{order[i + 1]}.html" and "data-keep-filters" in nxt.attrs


def test_every_section_names_its_query_and_the_query_is_copied(pages, built):
    out, _ = built
    page = pages[next(iter(pages))]
    linked = {a.attrs["href"].split("queries/")[1] for a in page.find_all("a") if "queries/" in a.attrs.get("href", "")}
    for name in store_page.QUERIES:
        assert f"{name}.sql" in linked, name
        sql = (out / "queries" / f"{name}.sql").read_text(encoding="utf-8")
        assert sql.startswith("--"), name  # a header saying what it computes
        tables = re.findall(r"\b(?:from|join)\s+([a-z_][\w.]*)", re.sub(r"--[^\n]*", "", sql), re.I)
        assert tables and all(t.startswith("marts.") for t in tables), (name, tables)


def test_cells_equal_the_site_cells():
    # the store page joins its table cells in Python; they must be rate_td / value_td's
    for value in (0, 7, 12345, None):
        assert store_page.count_td("x", value) == str(value_td("x", value))
    for value in (Decimal("0.00"), Decimal("1234.5"), Decimal("-0.00"), Decimal("-3.10"), None):
        assert store_page.money_td("x", value) == str(value_td("x", value, "money"))
    for value, num, den in ((0.25, 1, 4), (0.0, 0, 3), (None, 0, 0), (float("nan"), 0, 0), (1.0, 12345, 12345)):
        assert store_page.share_td("x", value, num, den) == str(rate_td("x", value, num, den))
    assert store_page.share_td("x", 0.5, Decimal("1.00"), Decimal("2.00"), "money") == \
        str(rate_td("x", 0.5, Decimal("1.00"), Decimal("2.00"), "money"))


def test_a_store_without_kpis_gets_a_page_with_a_note(demo_build, tmp_path):
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_build.warehouse, warehouse)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("insert into marts.dim_stores (store_code, store_name) values ('S999', '新店')")
    result = render_dashboards(warehouse, tmp_path / "site")
    page = read(result.store_pages["S999"])
    assert not panels(page)
    assert Translator("zh")("store.no_kpis") in html.unescape(page.clean())
