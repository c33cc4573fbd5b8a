"""The store pages (门店, stores/<code>.html): a service manager sees how the
store keeps its customers and where the lost ones went.

Per month (the month filter): the status funnel (on file -> active -> at risk
-> churned, and hidden churn among the active); the headline KPIs, every rate
with its numerator/denominator; churn broken down by vehicle model, customer
type, district, last service type and annual spend band; the loss type of the
at-risk and churned customers; the reached surveys by reason and destination.
Over all months: status mix, churn, cohort retention, revenue, per-ticket
value, labor-parts ratio and renewal charts, and the monthly KPI table.
Links: the store's call list, the previous and next store.

Each query runs once for every store; the rows are split by store and month here.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from markupsafe import Markup

from dashboards import charts, formatting
from dashboards.i18n import Translator
from dashboards.pages.months import Aligned, month_axis
from dashboards.site import Page, Site, month_key
from dashboards.sql import run_query

QUERIES = (
    "store_headline",
    "store_status_funnel",
    "store_breakdowns",
    "store_loss_type",
    "store_surveys",
    "store_survey_reasons",
    "store_survey_destinations",
    "store_status_mix",
    "store_churn_trend",
    "store_cohort_retention",
    "store_revenue_trend",
    "store_labor_parts",
    "store_renewal_trend",
    "store_monthly_kpis",
)

# Queries with one row per store and month, and those with several (a list).
_ONE_ROW = ("store_headline", "store_status_funnel", "store_surveys")
_MANY_ROWS = ("store_breakdowns", "store_loss_type", "store_survey_reasons", "store_survey_destinations")
_SERIES = (
    "store_status_mix", "store_churn_trend", "store_cohort_retention", "store_revenue_trend",
    "store_labor_parts", "store_renewal_trend", "store_monthly_kpis",
)

# The breakdowns on the page, in order, and the dictionary prefix of their
# values (a model or a district is shown as it is; 'unknown' is labelled).
DIMENSIONS = (
    ("vehicle_model", "store.value"),
    ("customer_type", "customer_type"),
    ("district", "store.value"),
    ("last_service_type", "service_type"),
    ("annual_spend_band", "spend_band"),
)
# Bands are listed by their range, the other dimensions largest first.
BAND_ORDER = {
    "annual_spend_band": ("none", "under_1k", "1k_3k", "3k_5k", "5k_10k", "10k_plus", "unknown"),
}

STATUSES = ("active", "at_risk", "churned")


def collect(con, site: Site) -> dict[str, Any]:
    known = set(site.store_files)
    by_store: dict[str, dict[str, Any]] = {
        code: {"months": defaultdict(lambda: defaultdict(list)), "series": defaultdict(list)} for code in known
    }
    for name in QUERIES:
        for row in run_query(con, name, store_code=None):
            store = by_store.get(row["store_code"])
            if store is None:
                continue
            if name in _SERIES:
                store["series"][name].append(row)
                continue
            month = store["months"][month_key(row["month_end"])]
            if name in _ONE_ROW:
                month[name] = row
            else:
                month[name].append(row)
    return {"by_store": by_store}


def build(data: dict[str, Any], site: Site, t: Translator) -> list[Page]:
    pages = []
    stores = site.stores
    for pos, store in enumerate(stores):
        code = store["store_code"]
        collected = data["by_store"][code]
        months = [_month(m, collected["months"].get(month_key(m["month_end"]), {})) for m in site.months]
        series = collected["series"]
        has_data = any(mo["headline"] for mo in months)
        monthly = sorted(series.get("store_monthly_kpis", []), key=lambda r: r["month_end"], reverse=True)
        pages.append(Page(
            path=site.store_page(code),
            template="store.html",
            store_code=code,
            context={
                "store": store,
                "store_label": store_label(code, store["store_name"]),
                "prev_store": _neighbour(site, stores[pos - 1]) if pos > 0 else None,
                "next_store": _neighbour(site, stores[pos + 1]) if pos + 1 < len(stores) else None,
                "has_data": has_data,
                "months": months,
                "dimensions": DIMENSIONS,
                "statuses": STATUSES,
                "charts": store_charts(series, t) if has_data else {},
                "monthly": monthly,
            },
        ))
    return pages


def store_label(store_code: str, store_name: str | None) -> str:
    return f"{store_code} {store_name}" if store_name else store_code


def _neighbour(site: Site, store: dict[str, Any]) -> dict[str, Any]:
    return {
        "store_code": store["store_code"],
        "label": store_label(store["store_code"], store["store_name"]),
        "path": site.store_page(store["store_code"]),
    }


def _month(m: dict[str, Any], rows: dict[str, Any]) -> dict[str, Any]:
    """One month's panel of a store: its rows of every per-month query."""
    headline = rows.get("store_headline")
    breakdowns = defaultdict(list)
    for r in rows.get("store_breakdowns", []):
        breakdowns[r["dimension"]].append(r)
    for dimension, order in BAND_ORDER.items():
        if dimension in breakdowns:
            rank = {value: i for i, value in enumerate(order)}
            breakdowns[dimension].sort(key=lambda r: (rank.get(r["dimension_value"], len(rank)), r["dimension_value"]))
    as_of = headline["as_of_date"] if headline else None
    return {
        "month_end": m["month_end"],
        "as_of_date": as_of,
        "in_progress": bool(as_of and as_of < m["month_end"]),
        "headline": headline,
        "funnel": rows.get("store_status_funnel"),
        "breakdowns": breakdowns,
        "loss_type": rows.get("store_loss_type", []),
        "surveys": rows.get("store_surveys"),
        "reasons": rows.get("store_survey_reasons", []),
        "destinations": rows.get("store_survey_destinations", []),
    }


# ----------------------------------------------------------------------- charts


def store_charts(series: dict[str, list[dict[str, Any]]], t: Translator) -> dict[str, Markup]:
    """The charts of a store page, all on the same month axis."""
    axis = month_axis(r["month_end"] for r in series.get("store_status_mix", []))
    labels = [formatting.month(m) for m in axis]
    fm, rate, money, count, frac = (
        formatting.month, formatting.rate, formatting.money, formatting.count, formatting.fraction
    )
    out: dict[str, Markup] = {}

    mix = Aligned(series.get("store_status_mix", []), axis)
    out["status_mix"] = charts.bar_chart(
        labels,
        [
            charts.Series(
                t(f"kpi.{status}"), mix.values(status), color=charts.STATUS_COLORS[status],
                tooltips=mix.tips(
                    lambda r, s=status: f"{fm(r['month_end'])} {t(f'kpi.{s}')}: {count(r[s])}/{count(r['on_file'])} "
                    f"({t('store.tip.on_file', on_file=count(r['on_file']))})"
                    + (f"; {t('store.tip.hidden_churn', hidden=count(r['hidden_churn']))}" if s == "active" else "")
                ),
            )
            for status in STATUSES
        ],
        title=t("store.status_mix"), y_label=t("axis.customers"), kind="count", css_class="status-mix",
    )

    ct = Aligned(series.get("store_churn_trend", []), axis)
    out["churn_trend"] = charts.line_chart(
        labels,
        [
            charts.Series(
                t("kpi.churn_rate"), ct.values("churn_rate"), color="#c62828",
                tooltips=ct.tips(lambda r: f"{fm(r['month_end'])} {t('kpi.churn_rate')}: "
                                 f"{rate(r['churn_rate'])} ({frac(r['churned'], r['on_file'])})"),
            ),
            charts.Series(
                t("kpi.cohort_churn_rate"), ct.values("cohort_churn_rate"), color="#1f77b4",
                tooltips=ct.tips(lambda r: f"{fm(r['month_end'])} {t('kpi.cohort_churn_rate')}: "
                                 f"{rate(r['cohort_churn_rate'])} ({frac(r['cohort_lost'], r['cohort_size'])})"),
            ),
            charts.Series(
                t("kpi.value_weighted_churn_rate"), ct.values("value_weighted_churn_rate"),
                color="#9467bd", dash="6 3",
                tooltips=ct.tips(lambda r: f"{fm(r['month_end'])} {t('kpi.value_weighted_churn_rate')}: "
                                 f"{rate(r['value_weighted_churn_rate'])} "
                                 f"({frac(r['churned_annual_spend'], r['on_file_annual_spend'], 'money')})"),
            ),
        ],
        title=t("store.churn_trend"), y_label=t("axis.rate"), kind="rate", css_class="churn-trend",
    )

    co = Aligned(series.get("store_cohort_retention", []), axis)
    out["cohort_retention"] = charts.line_chart(
        labels,
        [charts.Series(
            t("kpi.cohort_retention_rate"), co.values("cohort_retention_rate"), color="#2ca02c",
            tooltips=co.tips(lambda r: f"{fm(r['month_end'])} {t('kpi.cohort_retention_rate')}: "
                             f"{rate(r['cohort_retention_rate'])} ({frac(r['cohort_returned'], r['cohort_size'])})"),
        )],
        title=t("store.cohort_retention"), y_label=t("store.axis.cohort_retention"), kind="rate",
        css_class="cohort-retention", y_max=1.0, legend=False,
    )

    half = {"width": charts.HALF_WIDTH, "plot_height": 180, "legend": False}
    rv = Aligned(series.get("store_revenue_trend", []), axis)
    out["revenue"] = charts.bar_chart(
        labels,
        [charts.Series(
            t("kpi.revenue"), rv.values("revenue"), color="#1f77b4",
            tooltips=rv.tips(lambda r: f"{fm(r['month_end'])} {t('kpi.revenue')}: {money(r['revenue'])}, "
                             f"{t('store.tip.paid_visits', paid=count(r['paid_visits']))}"),
        )],
        title=t("store.revenue"), y_label=t("axis.revenue"), kind="money", css_class="revenue", **half,
    )
    out["per_ticket"] = charts.line_chart(
        labels,
        [charts.Series(
            t("kpi.per_ticket_value"), rv.values("per_ticket_value"), color="#ff7f0e",
            tooltips=rv.tips(lambda r: f"{fm(r['month_end'])} {t('kpi.per_ticket_value')}: "
                             f"{money(r['per_ticket_value'])} "
                             f"({frac(r['revenue'], r['paid_visits'], 'money', 'count')})"),
        )],
        title=t("store.per_ticket"), y_label=t("store.axis.per_ticket"), kind="money",
        css_class="per-ticket", **half,
    )

    lp = Aligned(series.get("store_labor_parts", []), axis)
    out["labor_parts"] = charts.line_chart(
        labels,
        [charts.Series(
            t("kpi.labor_parts_ratio"), lp.values("labor_parts_ratio"), color="#8c564b",
            tooltips=lp.tips(lambda r: f"{fm(r['month_end'])} {t('kpi.labor_parts_ratio')}: "
                             f"{formatting.ratio(r['labor_parts_ratio'])} "
                             f"({frac(r['parts_amount'], r['labor_amount'], 'money')}); "
                             f"{t('kpi.labor_share')} {rate(r['labor_share'])}"),
        )],
        title=t("store.labor_parts"), y_label=t("store.axis.labor_parts"), kind="ratio",
        css_class="labor-parts", **half,
    )

    rn = Aligned(series.get("store_renewal_trend", []), axis)
    out["renewal"] = charts.line_chart(
        labels,
        [charts.Series(
            t("kpi.renewal_rate"), rn.values("renewal_rate"), color="#2ca02c",
            tooltips=rn.tips(lambda r: f"{fm(r['month_end'])} {t('kpi.renewal_rate')}: "
                             f"{rate(r['renewal_rate'])} ({frac(r['policies_renewed'], r['policies_expiring'])})"),
        )],
        title=t("store.renewal"), y_label=t("store.axis.renewal"), kind="rate",
        css_class="renewal", y_max=1.0, **half,
    )
    return out
