"""The campaigns pages (招揽活动效果): what each win-back campaign achieved
against its plan and against what would have happened anyway.

``campaigns/<store>.html``, for the store's service manager: the store's
campaigns in a table (plan against result, cost, the uplift with its 95%
interval, cost per incremental return), the uplifts with their intervals as
error bars, and per campaign its cards and its return curves (contacted
against comparison, by day since the start). A running campaign is marked and
shows its figures to date; one without a contact file names its comparison
design. ``campaigns.html``, for group HQ: every store's campaigns, and the
campaign kinds (and kind x target reason) ranked by cost per incremental
return.

The pages are not per month: they hold every campaign (the month filter does
not apply). Every figure comes from the campaign marts through
queries/campaigns_*.sql; a warehouse built before those marts shows a note.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from markupsafe import Markup

from dashboards import charts, formatting
from dashboards.i18n import Translator
from dashboards.site import Page, Site, rate_td, value_td
from dashboards.sql import relation_exists, run_query

QUERIES = ("campaigns_effect", "campaigns_return_curves", "campaigns_kinds")
MARTS = ("kpi_campaign_effect", "kpi_campaign_effect_month", "kpi_campaign_return_curve")

SIDE_COLORS = {"contacted": "#c62828", "comparison": "#607d8b"}
RUNNING_COLOR = "#ef6c00"
ENDED_COLOR = "#1f77b4"


def collect(con, site: Site) -> dict[str, Any]:
    missing = [name for name in MARTS if not relation_exists(con, "marts", name)]
    if missing:
        return {"missing": ", ".join(f"marts.{name}" for name in missing)}
    campaigns = run_query(con, "campaigns_effect")
    curves: dict[tuple[str, str], dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for row in run_query(con, "campaigns_return_curves"):
        curves[(row["store_code"], row["campaign_id"])][row["side"]].append(row)
    kinds = defaultdict(list)
    for row in run_query(con, "campaigns_kinds"):
        kinds[row["grouping"]].append(row)
    by_store = defaultdict(list)
    for row in campaigns:
        by_store[row["store_code"]].append(row)
    return {"missing": None, "campaigns": campaigns, "by_store": by_store, "curves": curves, "kinds": kinds}


def build(data: dict[str, Any], site: Site, t: Translator) -> list[Page]:
    missing = data["missing"]
    pages = []
    for store in site.stores:
        code = store["store_code"]
        rows = [] if missing else data["by_store"].get(code, [])
        label = f"{code} {store['store_name']}" if store["store_name"] else code
        pages.append(Page(
            path=site.campaigns_page(code),
            template="campaigns_store.html",
            store_code=code,
            context={
                "store": store,
                "store_label": label,
                "missing": missing,
                "table": campaign_rows(rows, site, t, with_store=False),
                "uplift_chart": uplift_chart(rows, t, with_store=False) if rows else None,
                "campaigns": [campaign_view(r, data["curves"].get((code, r["campaign_id"]), {}), t) for r in rows],
            },
        ))
    # The stores the site has pages for: a store gone from the marts' stores
    # has no campaigns page to link to.
    rows = [] if missing else [r for r in data["campaigns"] if r["store_code"] in site.store_files]
    kinds = {} if missing else data["kinds"]
    pages.append(Page(
        path=site.campaigns_group_page,
        template="campaigns_group.html",
        context={
            "missing": missing,
            "table": campaign_rows(rows, site, t, with_store=True),
            "uplift_chart": uplift_chart(rows, t, with_store=True) if rows else None,
            "kinds": kind_rows(kinds.get("kind", []), t, with_reason=False),
            "kind_reasons": kind_rows(kinds.get("kind_reason", []), t, with_reason=True),
            "has_campaigns": bool(rows),
        },
    ))
    return pages


# ------------------------------------------------------------------ the table


def _uplift_text(r: dict[str, Any]) -> str:
    """'+12.0 pp [+3.1 pp, +20.9 pp]': the uplift and its 95% interval."""
    if formatting.is_null(r["uplift"]):
        return formatting.NULL
    return f"{formatting.points(r['uplift'])} [{formatting.points(r['uplift_ci_low'])}, " \
           f"{formatting.points(r['uplift_ci_high'])}]"


def _uplift_title(r: dict[str, Any], t: Translator) -> str:
    return t("campaign.uplift_title", returned=formatting.count(r["matched_returned"]),
             expected=formatting.ratio(r["expected_returns"], 1), contacted=formatting.count(r["matched_contacted"]))


def status_label(r: dict[str, Any], t: Translator) -> str:
    if r["is_running"]:
        return t("campaign.running_to", date=formatting.day(r["measured_through"]))
    return t("campaign.ended")


def campaign_rows(rows: list[dict[str, Any]], site: Site, t: Translator, *, with_store: bool) -> Markup:
    """The campaigns table's rows: `data-row` is the campaign id (with the
    store code before it on the group page)."""
    out = []
    for r in rows:
        key = f"{r['store_code']}/{r['campaign_id']}" if with_store else r["campaign_id"]
        cells = []
        if with_store:  # to the campaign's section (no data-keep-filters: the script would drop the anchor)
            cells.append(f'<td data-col="store"><a href="{site.campaigns_page(r["store_code"])}#campaign-'
                         f'{Markup.escape(r["campaign_id"])}">{Markup.escape(r["store_code"])}</a></td>')
        badge = f' <span class="badge">{Markup.escape(t("campaign.running"))}</span>' if r["is_running"] else ""
        cells += [
            f'<td data-col="campaign">{Markup.escape(r["campaign_id"])} {Markup.escape(r["campaign_name"] or "")}{badge}</td>',
            f'<td data-col="kind">{Markup.escape(t.value("campaign_kind", r["campaign_kind"]))}</td>',
            f'<td data-col="target_reason">{Markup.escape(t.value("survey_reason", r["target_reason"]))}</td>',
            f'<td data-col="period">{formatting.day(r["start_date"])} – {formatting.day(r["end_date"])}</td>',
            str(value_td("cost", r["cost"], "money")),
            str(value_td("planned_returns", r["planned_returns"])),
            str(value_td("returned", r["returned"], title=formatting.fraction(r["returned"], r["contacted"]))),
            str(rate_td("planned_returns_share", r["planned_returns_share"], r["returned"], r["planned_returns"])),
            str(value_td("contacted", r["contacted"])),
            str(value_td("expected_returns", r["expected_returns"], "ratio",
                         title=formatting.fraction(r["matched_returned"], r["matched_contacted"]))),
            str(value_td("incremental_returns", r["incremental_returns"], "ratio")),
            f'<td class="num{" null" if formatting.is_null(r["uplift"]) else ""}" data-col="uplift" '
            f'title="{Markup.escape(_uplift_title(r, t))}">{Markup.escape(_uplift_text(r))}</td>',
            str(value_td("cost_per_incremental_return", r["cost_per_incremental_return"], "money")),
            str(value_td("campaign_return", r["campaign_return"], "money")),
        ]
        out.append(f'<tr data-row="{Markup.escape(key)}">{"".join(cells)}</tr>\n')
    return Markup("".join(out))


def kind_rows(rows: list[dict[str, Any]], t: Translator, *, with_reason: bool) -> Markup:
    """The ranking of campaign kinds (or kind x reason) by cost per incremental return."""
    out = []
    for r in rows:
        key = f"{r['campaign_kind']}:{r['target_reason']}" if with_reason else r["campaign_kind"]
        reason = (f'<td data-col="target_reason">{Markup.escape(t.value("survey_reason", r["target_reason"]))}</td>'
                  if with_reason else "")
        rank = r["cost_rank"] if r["cost_rank"] is not None else formatting.NULL
        out.append(
            f'<tr data-row="{Markup.escape(key)}"><td class="num" data-col="rank">{rank}</td>'
            f'<td data-col="kind">{Markup.escape(t.value("campaign_kind", r["campaign_kind"]))}</td>{reason}'
            + str(value_td("campaigns", r["campaigns"], title=t("campaign.running_of", running=r["running_campaigns"])))
            + str(value_td("measured_campaigns", r["measured_campaigns"]))
            + str(value_td("contacted", r["contacted"]))
            + str(rate_td("planned_returns_share", r["planned_returns_share"], r["planned_campaigns_returned"],
                          r["planned_returns"]))
            + str(value_td("incremental_returns", r["incremental_returns"], "ratio",
                           title=t("campaign.uplift_title", returned=formatting.count(r["matched_returned"]),
                                   expected=formatting.ratio(r["expected_returns"], 1),
                                   contacted=formatting.count(r["matched_contacted"]))))
            + f'<td class="num" data-col="uplift">{Markup.escape(_uplift_text(r))}</td>'
            + str(value_td("measured_cost", r["measured_cost"], "money"))
            + str(value_td("cost_per_incremental_return", r["cost_per_incremental_return"], "money"))
            + str(value_td("campaign_return", r["campaign_return"], "money"))
            + "</tr>\n"
        )
    return Markup("".join(out))


# ------------------------------------------------------- one campaign's panel


def _card(key: str, label: str, value: str, title: str | None = None, detail: str | None = None) -> dict[str, Any]:
    return {"key": key, "label": label, "value": value, "title": title, "detail": detail}


def campaign_view(r: dict[str, Any], curves: dict[str, list[dict[str, Any]]], t: Translator) -> dict[str, Any]:
    fr, count, money = formatting.fraction, formatting.count, formatting.money
    plan = fr(r["returned"], r["planned_returns"])
    cards = [
        _card("planned_returns_share", t("campaign.plan_vs_result"), plan, plan,
              f"{t('campaign.planned_returns_share')} {formatting.rate(r['planned_returns_share'])}"),
        _card("cost", t("campaign.cost"), money(r["cost"]), None,
              f"{t('campaign.cost_per_returned')} {money(r['cost_per_returned'])}"),
        _card("contacted", t("campaign.contacted"), count(r["contacted"]), None,
              t("campaign.reached_detail", reached=count(r["reached"]), rate=formatting.rate(r["reach_rate"]))
              if r["has_contact_file"] else t("campaign.no_contact_file_short")),
        _card("returned", t("campaign.returned"), count(r["returned"]), fr(r["returned"], r["contacted"]),
              f"{formatting.rate(r['return_rate'])} ({fr(r['returned'], r['contacted'])}) · "
              f"{t('campaign.returned_after_contact')} {count(r['returned_after_contact'])}"),
        _card("expected_returns", t("campaign.expected_returns"), formatting.ratio(r["expected_returns"], 1),
              None, t("campaign.matched_detail", matched=count(r["matched_contacted"]),
                      unmatched=count(r["unmatched_contacted"]))),
        _card("uplift", t("campaign.uplift"), formatting.points(r["uplift"]), _uplift_title(r, t),
              t("campaign.interval", low=formatting.points(r["uplift_ci_low"]),
                high=formatting.points(r["uplift_ci_high"]))),
        _card("cost_per_incremental_return", t("campaign.cost_per_incremental_return"),
              money(r["cost_per_incremental_return"]), None,
              t("campaign.incremental_detail", incremental=formatting.ratio(r["incremental_returns"], 1))),
        _card("campaign_return", t("campaign.campaign_return"), money(r["campaign_return"]), None,
              t("campaign.campaign_return_detail", profit=money(r["incremental_gross_profit"]), cost=money(r["cost"]))),
    ]
    return {
        "row": r,
        "status": status_label(r, t),
        "kind": t.value("campaign_kind", r["campaign_kind"]),
        "target_reason": t.value("survey_reason", r["target_reason"]),
        "design": t(f"campaign.design.{r['comparison_design']}",
                    strata=formatting.day(r["strata_month_end"]), month=formatting.day(r["comparison_month_end"])),
        "cards": cards,
        "curve_chart": return_curve_chart(r, curves, t) if curves else None,
    }


# ----------------------------------------------------------------------- charts


def return_curve_chart(r: dict[str, Any], curves: dict[str, list[dict[str, Any]]], t: Translator) -> Markup:
    """The contacted's and the comparison's share returned by day since the start."""
    days = max(len(rows) for rows in curves.values())
    series = []
    for side in ("contacted", "comparison"):
        rows = curves.get(side, [])
        label = t(f"campaign.side.{side}")
        values = [row["weighted_return_share"] for row in rows] + [None] * (days - len(rows))

        def tip(row, label=label, side=side):
            head = f"{label} {t('campaign.day', day=row['day_offset'])} ({formatting.day(row['curve_date'])}): " \
                   f"{formatting.rate(row['weighted_return_share'])}"
            if side == "contacted":
                return f"{head} ({formatting.fraction(row['returned'], row['customers'])})"
            return f"{head} ({formatting.ratio(row['weighted_returned'], 1)}/{formatting.count(row['matched_contacted'])}" \
                   f"; {t('campaign.unweighted', share=formatting.fraction(row['returned'], row['customers']))})"

        series.append(charts.Series(label, values, color=SIDE_COLORS[side], dash="" if side == "contacted" else "6 3",
                                    tooltips=[tip(row) for row in rows] + [None] * (days - len(rows))))
    return charts.line_chart(
        [str(day) for day in range(days)], series,
        title=t("campaign.curve_title", campaign=r["campaign_id"]), y_label=t("campaign.axis.returned_share"),
        kind="rate", css_class="return-curve", plot_height=200,
    )


def uplift_chart(rows: list[dict[str, Any]], t: Translator, *, with_store: bool) -> Markup:
    """Each campaign's uplift with its 95% interval as an error bar; running
    campaigns in orange (figures to date)."""
    ordered = sorted(rows, key=lambda r: (r["start_date"], r["store_code"], r["campaign_id"]))
    categories = [f"{r['store_code']} {r['campaign_id']}" if with_store else r["campaign_id"] for r in ordered]
    intervals = [
        charts.Interval(
            r["uplift"], r["uplift_ci_low"], r["uplift_ci_high"],
            f"{category}: {t('campaign.uplift')} {_uplift_text(r)} — {_uplift_title(r, t)}"
            + (f" · {status_label(r, t)}" if r["is_running"] else ""),
            color=RUNNING_COLOR if r["is_running"] else ENDED_COLOR,
        )
        for category, r in zip(categories, ordered)
    ]
    return charts.interval_chart(categories, intervals, title=t("campaign.uplift_chart"),
                                 y_label=t("campaign.axis.uplift"), kind="rate", css_class="uplift")
