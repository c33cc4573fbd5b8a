"""The group overview (集团总览, index.html): group HQ sees which stores are
losing customers and money, and why.

Per month (the month filter): the group's headline KPIs; the store league
table with every headline KPI against the group median; the region roll-up;
group transfers against losses to competitors per store; churn by vehicle
age against the industry line. Over all months: churn trend per store with
the group line, and group transfers against competitor losses. Each store's
churn risk score AUC against the fixed rule and recency (pages/churn_score.py).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from markupsafe import Markup

from dashboards import charts, formatting
from dashboards.i18n import Translator
from dashboards.pages import churn_score
from dashboards.pages.months import Aligned, month_axis, rate_series
from dashboards.site import (Page, Site, build_root, latest_month_key, make_environment, month_key,
                             relative_root)
from dashboards.sql import run_query

QUERIES = (
    "group_headline",
    "group_league_table",
    "group_store_medians",
    "group_regions",
    "group_vehicle_age",
    "group_churn_trend",
    "group_loss_kinds",
)

# The panel cache's key of the overview's month panels: no store code is it
# (a code comes from a CSV field, which holds no NUL).
GROUP_PANELS = "\0group"

# League-table KPIs compared with the group median: +1 when higher is worse
# for the group (shown red above the median), -1 when higher is better.
MEDIAN_DIRECTION = {
    "churn_rate": +1,
    "value_weighted_churn_rate": +1,
    "cohort_retention_rate": -1,
    "per_ticket_value": -1,
    "labor_parts_ratio": 0,  # a mix, not a good or bad: no colour
    "gross_margin": -1,
    "renewal_rate": -1,
    "hidden_churn": +1,
    "value_at_risk": +1,
}


def versus_median(key: str, value: Any, median: Any) -> str:
    """'worse' / 'better' / '' for a store's KPI against the month's median."""
    direction = MEDIAN_DIRECTION.get(key, 0)
    if direction == 0 or formatting.is_null(value) or formatting.is_null(median):
        return ""
    diff = float(value) - float(median)
    if abs(diff) < 1e-12:
        return ""
    return "worse" if diff * direction > 0 else "better"


def collect(con, site: Site) -> dict[str, Any]:
    data = {name: run_query(con, name) for name in QUERIES}
    by_month: dict[str, dict[str, Any]] = defaultdict(lambda: defaultdict(list))
    for name in ("group_league_table", "group_regions", "group_vehicle_age"):
        for row in data[name]:
            by_month[month_key(row["month_end"])][name].append(row)
    for row in data["group_headline"]:
        by_month[month_key(row["month_end"])]["headline"] = row
    for row in data["group_store_medians"]:
        by_month[month_key(row["month_end"])]["median"] = row
    data["months"] = [_month(m, by_month.get(month_key(m["month_end"]), {})) for m in site.months]
    # Each month's panel by the digest of what it shows (panel_cache.py): a
    # day renders the panels of the months its data changed.
    panels = site.panels
    assert panels is not None, "render_dashboards sets the site's panel cache"
    panels.load([GROUP_PANELS])
    latest = latest_month_key(site)
    data["panels"] = [panels.digest(GROUP_PANELS, (month_key(mo["month_end"]), latest, mo)) for mo in data["months"]]
    data["churn_score"] = churn_score.collect_group(con)
    return data


def _month(m: dict[str, Any], rows: dict[str, Any]) -> dict[str, Any]:
    """What a month's panel shows: the month of site.months and its rows."""
    league = rows.get("group_league_table", [])
    return {
        "month_end": m["month_end"],
        "as_of_date": m["as_of_date"],
        "in_progress": bool(m["as_of_date"] and m["as_of_date"] < m["month_end"]),
        "headline": rows.get("headline"),
        "median": rows.get("median"),
        "league": league,
        "stores_missing": [r for r in league if r["on_file"] is None],
        "regions": rows.get("group_regions", []),
        "vehicle_age": _vehicle_age_table(rows.get("group_vehicle_age", [])),
        "industry_line": {r["within_years"]: r["industry_churn_rate"] for r in rows.get("group_vehicle_age", [])},
    }


def build(data: dict[str, Any], site: Site, t: Translator) -> list[Page]:
    page_path = "index.html"
    panel_template = make_environment().get_template("_group_month.html")
    panel_context = {
        "t": t, "site": site, "root": relative_root(page_path), "build_root": build_root(page_path, t.language),
        "latest_month_key": latest_month_key(site), "versus_median": versus_median,
    }
    panels = []
    for mo, digest in zip(data["months"], data["panels"]):
        html = site.panels.get(GROUP_PANELS, digest, t.language)
        if html is None:
            html = panel_template.render(mo=mo, **panel_context)
            site.panels.put(GROUP_PANELS, digest, t.language, html)
        panels.append(html)
    regions = sorted({s["region"] for s in site.stores if s["region"]})
    return [
        Page(
            path=page_path,
            template="group.html",
            context={
                "has_months": bool(data["months"]),
                "month_panels": Markup("".join(panels)),
                "regions": regions,
                "churn_chart": churn_trend_chart(data["group_churn_trend"], site, t),
                "loss_chart": loss_kind_chart(data["group_loss_kinds"], t),
                "retention_chart": group_rates_chart(data["group_headline"], t),
                "score": churn_score.group_section(data["churn_score"], site, t),
            },
        )
    ]


def _vehicle_age_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per scope (stores, then the group) with its 1/2/3-year spans."""
    table: dict[tuple, dict[str, Any]] = {}
    for r in rows:
        key = (r["scope_level"], r["scope_code"])
        entry = table.setdefault(key, {
            "scope_level": r["scope_level"], "scope_code": r["scope_code"],
            "store_name": r["store_name"], "region": r["region"], "spans": {},
        })
        entry["spans"][r["within_years"]] = r
    return list(table.values())


def _store_label(store_code: str, store_name: str | None) -> str:
    return f"{store_code} {store_name}" if store_name else store_code


def churn_trend_chart(rows: list[dict[str, Any]], site: Site, t: Translator) -> Markup:
    """One churn-rate line per store and a thick one for the group."""
    axis = month_axis(r["month_end"] for r in rows)
    labels = [formatting.month(m) for m in axis]
    by_scope: dict[tuple, list] = defaultdict(list)
    for r in rows:
        by_scope[(r["scope_level"], r["scope_code"])].append(r)
    series = []
    names = {s["store_code"]: s["store_name"] for s in site.stores}
    order = [("store", s["store_code"]) for s in site.stores] + [("group", site.group_code)]
    for index, key in enumerate(order):
        if key not in by_scope:
            continue
        aligned = Aligned(by_scope[key], axis)
        name = t("scope.group") if key[0] == "group" else _store_label(key[1], names.get(key[1]))
        color, dash = ("#111", "") if key[0] == "group" else charts.series_style(index)
        series.append(charts.Series(
            name, aligned.values("churn_rate"), color=color, dash=dash,
            tooltips=aligned.tips(lambda r, n=name: f"{n} {formatting.month(r['month_end'])}: "
                                  f"{formatting.rate(r['churn_rate'])} "
                                  f"({formatting.fraction(r['churned'], r['on_file'])})"),
        ))
    return charts.line_chart(
        labels, series, title=t("group.churn_trend"), y_label=t("axis.churn_rate"),
        kind="rate", css_class="group-churn-trend",
    )


def loss_kind_chart(rows: list[dict[str, Any]], t: Translator) -> Markup:
    """The stores' losses to competitors against group transfers (and natural
    losses), summed over the stores per month."""
    axis = month_axis(r["month_end"] for r in rows)
    aligned = Aligned(rows, axis)
    kinds = (
        ("churned_to_competitors", "#c62828"),
        ("churned_group_transfers", "#1f77b4"),
        ("churned_natural", "#7f7f7f"),
    )
    return charts.bar_chart(
        [formatting.month(m) for m in axis],
        [
            charts.Series(
                t(f"kpi.{key}"), aligned.values(key), color=color,
                tooltips=aligned.tips(lambda r, k=key: f"{formatting.month(r['month_end'])} {t(f'kpi.{k}')}: "
                                      f"{formatting.count(r[k])} / {formatting.count(r['churned'])} "
                                      f"{t('kpi.churned')}"),
            )
            for key, color in kinds
        ],
        title=t("group.loss_kinds"), y_label=t("axis.customers"), kind="count", css_class="loss-kinds",
        stacked=True,
    )


def group_rates_chart(rows: list[dict[str, Any]], t: Translator) -> Markup:
    """The group's churn, value-weighted churn, cohort retention and renewal over months."""
    axis = month_axis(r["month_end"] for r in rows)
    aligned = Aligned(rows, axis)
    rates = (
        ("churn_rate", "churned", "on_file", "count", "#c62828"),
        ("value_weighted_churn_rate", "churned_annual_spend", "on_file_annual_spend", "money", "#9467bd"),
        ("cohort_retention_rate", "cohort_returned", "cohort_size", "count", "#2ca02c"),
        ("renewal_rate", "policies_renewed", "policies_expiring", "count", "#1f77b4"),
    )
    return charts.line_chart(
        [formatting.month(m) for m in axis],
        [rate_series(aligned, t(f"kpi.{key}"), key, num, den, color=color, kind=kind)
         for key, num, den, kind, color in rates],
        title=t("group.rates_trend"), y_label=t("axis.rate"), kind="rate", css_class="group-rates", y_max=1.0,
    )
