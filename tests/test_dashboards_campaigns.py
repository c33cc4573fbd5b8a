"""The campaigns pages against the campaign marts, and the return-curve mart
against the landing.

A generated landing of two stores gets four campaigns at its first store
(tests/campaign_landing.py) and none at the second; the real pipeline builds
the warehouse and renders the pages once for the session (tests/conftest.py,
shared with the campaign-effect tests). The figures on the
pages are compared with the marts' values formatted here; the return curves
with a plain-Python computation from the landing CSVs; the ranking of
campaign kinds with sums of the per-campaign mart worked out here, and with
hand-made rows. A headless Chromium opens the pages (skipped without it).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import duckdb
import pytest
from browser import LOCAL_SCHEMES, chromium, needs_chromium, open_page, requests
from campaign_landing import independent_curves
from test_dashboards import parse

from dashboards.marts_schema import create_mart_tables
from dashboards.sql import run_query

# ------------------------------------------------------------ formats, here


def money(v) -> str:
    return "—" if v is None else (f"-¥{-v:,.2f}" if v < 0 else f"¥{v:,.2f}")


def pct(v) -> str:
    return "—" if v is None else f"{v * 100:.1f}%"


def pp(v) -> str:
    if v is None:
        return "—"
    return "±0.0 pp" if abs(v * 100) < 0.05 else f"{v * 100:+.1f} pp"


def two_places(v) -> str:
    return "—" if v is None else f"{v:,.2f}"


# ------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def build(campaign_run):
    """(landing model, campaigns, warehouse, pages folder) of the shared
    campaign run (tests/conftest.py)."""
    return campaign_run.model, campaign_run.campaigns, campaign_run.warehouse, campaign_run.dashboards


@pytest.fixture(scope="module")
def marts(build):
    with duckdb.connect(str(build[2]), read_only=True) as con:
        def rows(sql, *params):
            cur = con.execute(sql, list(params))
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r)) for r in cur.fetchall()]

        stores = [r["store_code"] for r in rows("select store_code from marts.dim_stores order by 1")]
        yield {
            "stores": stores,
            "effect": rows("select * from marts.kpi_campaign_effect order by store_code, campaign_id"),
            "curve": rows("select * from marts.kpi_campaign_return_curve order by store_code, campaign_id, side, "
                          "day_offset"),
        }


def page(build, path: str) -> str:
    return (build[3] / path).read_text(encoding="utf-8")


# ---------------------------------------------------------------------- tests


def test_the_landing_has_a_store_with_campaigns_and_one_without(build, marts):
    _, campaigns, _, _ = build
    with_campaigns = {c.store for c in campaigns}
    assert len(marts["stores"]) == 2 and len(with_campaigns) == 1
    assert {r["store_code"] for r in marts["effect"]} == with_campaigns
    for lang in ("", "en/"):
        assert (build[3] / f"{lang}campaigns.html").is_file()
        for store in marts["stores"]:
            assert (build[3] / f"{lang}campaigns/{store}.html").is_file()


def test_store_page_shows_each_campaign_as_the_mart_has_it(build, marts):
    store = marts["effect"][0]["store_code"]
    cells = parse(page(build, f"en/campaigns/{store}.html"))
    rows = [r for r in marts["effect"] if r["store_code"] == store]
    assert sorted(cells.row_order) == sorted(r["campaign_id"] for r in rows)
    # newest first
    assert cells.row_order == [r["campaign_id"] for r in sorted(rows, key=lambda r: r["start_date"], reverse=True)]
    for r in rows:
        key = r["campaign_id"]

        def cell(col):
            return cells.cells[(key, col)]

        assert cell("cost")["text"].strip() == money(r["cost"])
        assert cell("planned_returns")["text"].strip() == str(r["planned_returns"])
        assert cell("returned")["text"].strip() == str(r["returned"])
        assert cell("returned")["title"] == f"{r['returned']}/{r['contacted']}"
        share = r["returned"] / r["planned_returns"]
        assert cell("planned_returns_share")["text"].strip() == pct(share)
        assert cell("planned_returns_share")["title"] == f"{r['returned']}/{r['planned_returns']}"
        assert cell("contacted")["text"].strip() == str(r["contacted"])
        assert cell("expected_returns")["text"].strip() == two_places(r["expected_returns"])
        assert cell("incremental_returns")["text"].strip() == two_places(r["incremental_returns"])
        uplift = "—" if r["uplift"] is None else \
            f"{pp(r['uplift'])} [{pp(r['uplift_ci_low'])}, {pp(r['uplift_ci_high'])}]"
        assert cell("uplift")["text"].strip() == uplift
        assert cell("cost_per_incremental_return")["text"].strip() == money(r["cost_per_incremental_return"])
        assert cell("campaign_return")["text"].strip() == money(r["campaign_return"])
        # the row's uplift is its incremental returns over its matched contacted
        if r["uplift"] is not None:
            assert r["uplift"] == pytest.approx((r["matched_returned"] - r["expected_returns"]) / r["matched_contacted"])


def test_running_and_no_contact_file_campaigns_say_so(build, marts):
    store = marts["effect"][0]["store_code"]
    by_id = {r["campaign_id"]: r for r in marts["effect"]}
    for lang, running, no_file in (("en/", "running, figures to", "No contact file."),
                                   ("", "进行中，数据截至", "无触达名单。")):
        html = page(build, f"{lang}campaigns/{store}.html")
        for campaign_id, r in by_id.items():
            section = html.split(f'data-campaign="{campaign_id}"', 1)[1].split("</section>", 1)[0]
            assert (f'data-status="running">{running} {r["measured_through"].isoformat()}' in section) \
                == r["is_running"], campaign_id
            assert f'data-design="{r["comparison_design"]}"' in section
            assert (no_file in section) == (not r["has_contact_file"]), campaign_id
            # the cards give the mart's plan against result and the interval
            cards = parse(section).cards
            assert cards["planned_returns_share"]["text"] == f"{r['returned']}/{r['planned_returns']}"
            assert cards["uplift"]["text"] == pp(r["uplift"])
    assert by_id["RUN-4"]["is_running"] and not by_id["PRICE-3"]["has_contact_file"]


def test_return_curves_equal_the_landing_and_end_at_the_effect(build, marts):
    model, campaigns, _, _ = build
    drawn = 0
    for campaign in campaigns:
        expected = independent_curves(model, campaigns, campaign)
        got: dict[str, list[tuple]] = {}
        for r in marts["curve"]:
            if r["campaign_id"] == campaign.campaign_id:
                got.setdefault(r["side"], []).append(
                    (r["day_offset"], r["customers"], r["returned"], r["weighted_returned"]))
        assert set(got) == set(expected), campaign.campaign_id
        for side, curve in expected.items():
            assert [g[:3] for g in got[side]] == [e[:3] for e in curve], (campaign.campaign_id, side)
            assert [g[3] for g in got[side]] == pytest.approx([e[3] for e in curve], abs=1e-9)
        effect = next(r for r in marts["effect"] if r["campaign_id"] == campaign.campaign_id)
        if expected:
            drawn += 1
            # the last day is the effect's: matched returned, and the expected returns
            assert got["contacted"][-1][2] == effect["matched_returned"]
            assert got["contacted"][-1][1] == effect["matched_contacted"]
            assert got["comparison"][-1][1] == effect["comparison_customers"]
            assert got["comparison"][-1][3] == pytest.approx(effect["expected_returns"], abs=1e-9)
            assert len(got["contacted"]) == (effect["measured_through"] - effect["start_date"]).days + 1
    assert drawn >= 2


def test_each_drawn_curve_is_on_the_page(build, marts):
    store = marts["effect"][0]["store_code"]
    html = page(build, f"en/campaigns/{store}.html")
    for r in marts["effect"]:
        section = html.split(f'data-campaign="{r["campaign_id"]}"', 1)[1].split("</section>", 1)[0]
        curve = [c for c in marts["curve"] if c["campaign_id"] == r["campaign_id"]]
        if not curve:
            assert 'data-note="no-curve"' in section and "svg" not in section
            continue
        assert 'class="chart return-curve"' in section
        last = max(c["day_offset"] for c in curve if c["side"] == "contacted")
        contacted_last = next(c for c in curve if c["side"] == "contacted" and c["day_offset"] == last)
        # the last point's tooltip: the share with its numerator and denominator
        assert (f"Contacted day {last} ({contacted_last['curve_date'].isoformat()}): "
                f"{pct(contacted_last['weighted_return_share'])} "
                f"({contacted_last['returned']}/{contacted_last['customers']})") in section


def test_the_store_without_campaigns_says_so(build, marts):
    store = next(s for s in marts["stores"] if s not in {r["store_code"] for r in marts["effect"]})
    for lang, text in (("en/", "No campaigns at this store"), ("", "本店暂无招揽活动")):
        html = page(build, f"{lang}campaigns/{store}.html")
        assert 'data-note="no-campaigns"' in html and text in html
        assert "<svg" not in html and 'class="campaigns"' not in html


def test_group_page_ranks_kinds_by_cost_per_incremental_return(build, marts):
    """The kind table against sums of the per-campaign mart worked out here."""
    cells = parse(page(build, "en/campaigns.html"))
    by_kind: dict[str, dict] = {}
    for r in marts["effect"]:
        k = by_kind.setdefault(r["campaign_kind"], {"campaigns": 0, "contacted": 0, "cost": Decimal(0),
                                                     "returned": 0, "expected": 0.0, "measured": 0})
        k["campaigns"] += 1
        k["contacted"] += r["contacted"]
        if r["matched_contacted"] > 0:
            k["measured"] += 1
            k["cost"] += r["cost"] or 0
            k["returned"] += r["matched_returned"]
            k["expected"] += r["expected_returns"]
    assert {key for key in cells.row_order if ":" not in key and "/" not in key} == set(by_kind)
    cost_per = {}
    for kind, k in by_kind.items():
        incremental = k["returned"] - k["expected"] if k["measured"] else None
        cost_per[kind] = (round(k["cost"] / Decimal(repr(incremental)), 2)
                          if incremental is not None and incremental > 0 else None)
        assert cells.cells[(kind, "campaigns")]["text"].strip() == str(k["campaigns"])
        assert cells.cells[(kind, "measured_campaigns")]["text"].strip() == str(k["measured"])
        assert cells.cells[(kind, "contacted")]["text"].strip() == str(k["contacted"])
        assert cells.cells[(kind, "measured_cost")]["text"].strip() == money(k["cost"])
        assert cells.cells[(kind, "incremental_returns")]["text"].strip() == two_places(incremental)
        assert cells.cells[(kind, "cost_per_incremental_return")]["text"].strip() == money(cost_per[kind])
    ranked = sorted((v, kind) for kind, v in cost_per.items() if v is not None)
    kinds_in_order = [key for key in cells.row_order if key in by_kind]
    assert kinds_in_order[:len(ranked)] == [kind for _, kind in ranked]
    # every store's campaigns are listed, linked to their store's page
    listed = [key for key in cells.row_order if "/" in key]
    assert sorted(listed) == sorted(f"{r['store_code']}/{r['campaign_id']}" for r in marts["effect"])


def test_kinds_are_ranked_from_group_rows_only_by_hand():
    """Hand-made kpi_campaign_effect_month rows: a kind's months summed at group
    scope, the store rows ignored, the cheapest incremental return first.

    invitation: 2 months, measured cost 600 + 400 = 1000, matched returned
    5 + 3 against 2.0 + 2.0 expected: 4 incremental, ¥250.00 each.
    discount: 300 for 3 - 1.0 = 2 incremental: ¥150.00, ranked first.
    membership: 1 - 2.0 = -1 incremental: no cost per return, unranked.
    The store row of discount (cost 999) must not count."""
    con = duckdb.connect()
    create_mart_tables(con)

    def month(scope, kind, month_end, cost, matched, returned, expected, std):
        con.execute(
            "insert into marts.kpi_campaign_effect_month (scope_level, scope_code, month_end, campaign_kind, "
            "target_reason, campaigns, running_campaigns, measured_campaigns, contacted, listed_contacted, reached, "
            "returned, returned_after_contact, visits, revenue, gross_profit, cost, planned_campaigns_returned, "
            "unmatched_contacted, matched_contacted, matched_returned, expected_returns, uplift, uplift_std_error, "
            "uplift_ci_low, uplift_ci_high, measured_cost, incremental_gross_profit, campaign_return) "
            "values (?, ?, ?, ?, 'price', 1, 0, 1, ?, ?, 0, ?, ?, 0, 0, 0, ?, 0, 0, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)",
            [scope, "G" if scope == "group" else "S1", month_end, kind, matched, matched, returned, returned, cost,
             matched, returned, expected, (returned - expected) / matched, std,
             (returned - expected) / matched - 2.0 * std, (returned - expected) / matched + 2.0 * std, cost])

    month("group", "invitation", dt.date(2026, 1, 31), 600, 10, 5, 2.0, 0.1)
    month("group", "invitation", dt.date(2026, 2, 28), 400, 10, 3, 2.0, 0.1)
    month("group", "discount", dt.date(2026, 1, 31), 300, 10, 3, 1.0, 0.1)
    month("store", "discount", dt.date(2026, 1, 31), 999, 10, 9, 1.0, 0.1)
    month("group", "membership", dt.date(2026, 3, 31), 200, 10, 1, 2.0, 0.1)
    rows = [r for r in run_query(con, "campaigns_kinds") if r["grouping"] == "kind"]
    con.close()
    assert [(r["campaign_kind"], r["cost_rank"], r["cost_per_incremental_return"]) for r in rows] == [
        ("discount", 1, Decimal("150.00")), ("invitation", 2, Decimal("250.00")), ("membership", None, None)]
    invitation = rows[1]
    assert invitation["incremental_returns"] == pytest.approx(4.0) and invitation["measured_cost"] == 1000
    # two months of std error 0.1 over 10 matched each: sqrt(1 + 1) / 20; z = 2.0 read back from the rows
    assert invitation["uplift"] == pytest.approx(0.2)
    assert invitation["uplift_ci_high"] - invitation["uplift"] == pytest.approx(2.0 * 2 ** 0.5 / 20)


def test_pages_are_linked_from_the_store_and_group_pages_in_both_languages(build, marts):
    store = marts["stores"][0]
    for lang in ("", "en/"):
        index = page(build, f"{lang}index.html")
        assert 'href="campaigns.html"' in index
        store_page = page(build, f"{lang}stores/{store}.html")
        assert f'href="../campaigns/{store}.html"' in store_page and 'href="../campaigns.html"' in store_page
        campaigns = page(build, f"{lang}campaigns/{store}.html")
        assert f'href="../stores/{store}.html"' in campaigns
        # the store filter on a campaigns page opens the other store's campaigns
        other = marts["stores"][1]
        assert f'value="{other}" data-href="../campaigns/{other}.html"' in campaigns
    assert "招揽活动" in page(build, "index.html") and "Campaigns" in page(build, "en/index.html")


# ------------------------------------------------------------------ browser


@needs_chromium
def test_campaign_pages_load_offline_in_a_browser_with_their_charts(build, marts, tmp_path):
    from selenium.webdriver.common.by import By

    root = build[3]
    with_campaigns = marts["effect"][0]["store_code"]
    without = next(s for s in marts["stores"] if s != with_campaigns)
    pages = [root / "campaigns.html", root / "en" / "campaigns.html",
             root / "campaigns" / f"{with_campaigns}.html", root / "en" / "campaigns" / f"{with_campaigns}.html",
             root / "campaigns" / f"{without}.html"]
    with chromium(tmp_path / "profile") as driver:
        for path in pages:
            open_page(driver, path)
            severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            assert severe == [], (path, severe)
            network = [u for u, _ in requests(driver) if not u.startswith(LOCAL_SCHEMES)]
            assert network == [], (path, network)
            charts = driver.find_elements(By.CSS_SELECTOR, "svg.chart")
            if path.stem == without:
                assert charts == [] and driver.find_element(By.CSS_SELECTOR, "[data-note='no-campaigns']")
                continue
            uplift = driver.find_element(By.CSS_SELECTOR, "svg.chart.uplift")
            assert uplift.size["width"] > 100 and uplift.size["height"] > 50
            # a dot per measured campaign, its interval drawn as an error bar
            measured = [r for r in marts["effect"] if r["uplift"] is not None]
            assert len(uplift.find_elements(By.CSS_SELECTOR, "g.interval circle")) == len(measured)
            assert len(uplift.find_elements(By.CSS_SELECTOR, "line.error-bar")) == len(measured)
            if "campaigns" == path.parent.name:
                curves = driver.find_elements(By.CSS_SELECTOR, "svg.chart.return-curve")
                drawn = {r["campaign_id"] for r in marts["curve"]}
                assert len(curves) == len(drawn)
                for svg in curves:
                    assert svg.size["width"] > 100 and len(svg.find_elements(By.CSS_SELECTOR, "polyline")) == 2
