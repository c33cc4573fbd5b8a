"""The store pages (门店, stores/<code>.html): a service manager sees how the
store keeps its customers and where the lost ones went.

Per month (the month filter): the status funnel (on file -> active -> at risk
-> churned, and hidden churn among the active); the headline KPIs, every rate
with its numerator/denominator; churn broken down by vehicle model, customer
type, district, last service type and annual spend band; the loss type of the
at-risk and churned customers; the reached surveys by reason and destination.
Over all months: status mix, churn, cohort retention, revenue, per-ticket
value, labor-parts ratio and renewal charts, and the monthly KPI table.
Not per month: the churn risk score's distribution, calibration and
backtest (pages/churn_score.py). Links: the store's call list, the previous
and next store.

Each query runs once for every store; the rows are split by store and month
here. A month's panel is rendered from its own template (_store_month.html)
and kept between renders under a digest of its rows (panel_cache.py): a day
renders the panels of the store-months it changed.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from markupsafe import Markup, escape

from dashboards import charts, formatting
from dashboards.i18n import LANGUAGES, Translator
from dashboards.pages import churn_score
from dashboards.pages.months import Aligned, month_axis, rate_series
from dashboards.site import (Page, Site, build_root, latest_month_key, make_environment, month_key, rate_td,
                             value_td)
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

# Queries with one row per store and month, and those with several (a list):
# together, what a month's panel shows.
_ONE_ROW = ("store_headline", "store_status_funnel", "store_surveys")
_MANY_ROWS = ("store_breakdowns", "store_loss_type", "store_survey_reasons", "store_survey_destinations")
_PANEL_QUERIES = _ONE_ROW + _MANY_ROWS
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

STATUSES = ("active", "at_risk", "churned")  # the status mix chart


def collect(con, site: Site) -> dict[str, Any]:
    known = set(site.store_files)
    by_store: dict[str, dict[str, Any]] = {
        code: {"months": defaultdict(lambda: defaultdict(list)), "series": defaultdict(list)} for code in known
    }
    keys: dict[Any, str] = {}  # month_key of each month end, worked out once (a third of a million rows)
    for name in QUERIES:
        for row in run_query(con, name, store_code=None):
            store = by_store.get(row["store_code"])
            if store is None:
                continue
            if name in _SERIES:
                store["series"][name].append(row)
                continue
            key = keys.get(row["month_end"]) or keys.setdefault(row["month_end"], month_key(row["month_end"]))
            month = store["months"][key]
            if name in _ONE_ROW:
                month[name] = row
            else:
                month[name].append(row)
    panels = site.panels
    assert panels is not None, "render_dashboards sets the site's panel cache"
    panels.load(by_store)
    latest = latest_month_key(site)
    for code, store in by_store.items():
        store["has_data"] = any(store["months"].get(month_key(m["month_end"]), {}).get("store_headline")
                                for m in site.months)
        # Each month's panel by the digest of what it shows; the cells of a
        # panel the cache does not hold in every language are formatted here.
        store["panels"] = {}
        for m in site.months if store["has_data"] else ():
            key = month_key(m["month_end"])
            rows = store["months"].get(key, {})
            digest = panels.digest(code, (key, latest, [(name, rows.get(name)) for name in _PANEL_QUERIES]))
            store["panels"][key] = digest
            if panels.has(code, digest, LANGUAGES):
                continue
            for name, spec in ROW_CELLS.items():
                for row in rows.get(name, []):
                    row["cells"] = cells(row, spec)
        for row in store["series"]["store_monthly_kpis"]:
            key = month_key(row["month_end"])
            row["html"] = Markup(
                f'<tr data-month="{key}"><td data-col="month">{key}</td>'
                f'<td data-col="as_of_date">{escape(formatting.day(row["as_of_date"]))}</td>'
                f"{cells(row, MONTHLY_CELLS)}</tr>\n"
            )
    return {"by_store": by_store, "churn_score": churn_score.collect_store(con)}


# ------------------------------------------------------------- table cells
#
# The number cells of the tables are the same in every language: they are
# formatted once, in collect(), and the rows (whose labels differ by
# language) are joined in Python, not cell by cell in the template: a store
# page of 36 months holds thousands of rows, a render has 100 stores x 2
# languages of them. The cells are those of site.rate_td / site.value_td
# (a test holds them equal), with a fast path for the common cases.

# (column, kind) for a value; (column, 'rate', numerator, denominator, kind) for a rate.
CellSpec = tuple
ROW_CELLS: dict[str, tuple[CellSpec, ...]] = {
    "store_breakdowns": (
        ("on_file", "count"), ("at_risk", "count"), ("churned", "count"), ("hidden_churn", "count"),
        ("churn_rate", "rate", "churned", "on_file", "count"),
        ("value_weighted_churn_rate", "rate", "churned_annual_spend", "on_file_annual_spend", "money"),
    ),
    "store_loss_type": (("at_risk", "count"), ("churned", "count"), ("churned_annual_spend", "money")),
    "store_survey_reasons": (
        ("responses", "count"),
        ("share", "rate", "responses", "reached_surveys", "count", "reason_share"),
        ("confirmed_lost", "count", "confirmed_lost_responses"),
    ),
    "store_survey_destinations": (
        ("responses", "count"),
        ("share", "rate", "responses", "reached_surveys", "count", "destination_share"),
        ("confirmed_lost", "count"),
    ),
}
MONTHLY_CELLS: tuple[CellSpec, ...] = (
    ("on_file", "count"), ("active", "count"), ("at_risk", "count"), ("churned", "count"),
    ("new_customers", "count"), ("won_back", "count"), ("hidden_churn", "count"),
    ("churn_rate", "rate", "churned", "on_file", "count"),
    ("value_weighted_churn_rate", "rate", "churned_annual_spend", "on_file_annual_spend", "money"),
    ("cohort_churn_rate", "rate", "cohort_lost", "cohort_size", "count"),
    ("visits", "count"), ("paid_visits", "count"), ("revenue", "money"),
    ("per_ticket_value", "money_per", "revenue", "paid_visits"),
    ("labor_parts_ratio", "ratio_of", "parts_amount", "labor_amount"),
    ("gross_margin", "rate", "gross_profit", "revenue", "money"),
    ("renewal_rate", "rate", "policies_renewed", "policies_expiring", "count"),
    ("value_at_risk", "money"),
)


def count_td(col: str, value: Any) -> str:
    if type(value) is int:
        return f'<td class="num" data-col="{col}">{value:,}</td>'
    return str(value_td(col, value))


def money_td(col: str, value: Any, title: str | None = None) -> str:
    if isinstance(value, Decimal) and value.is_finite() and not value.is_signed() and title is None:
        return f'<td class="num" data-col="{col}">¥{value:,.2f}</td>'
    return str(value_td(col, value, "money", title))


def share_td(col: str, value: Any, num: Any, den: Any, kind: str = "count") -> str:
    if type(value) is float and value == value:
        if kind == "count" and type(num) is int and type(den) is int:
            return f'<td class="num" data-col="{col}" title="{num:,}/{den:,}">{value * 100:.1f}%</td>'
        if kind == "money" and isinstance(num, Decimal) and isinstance(den, Decimal):
            title = f"{formatting.money(num)}/{formatting.money(den)}"
            return f'<td class="num" data-col="{col}" title="{title}">{value * 100:.1f}%</td>'
    return str(rate_td(col, value, num, den, kind))


def cells(row: dict[str, Any], spec: tuple[CellSpec, ...]) -> Markup:
    """The <td>s of `row` by `spec` (see ROW_CELLS)."""
    out = []
    for c in spec:
        col, kind = c[0], c[1]
        if kind == "count":
            out.append(count_td(col, row[c[2] if len(c) > 2 else col]))
        elif kind == "money":
            out.append(money_td(col, row[col]))
        elif kind == "rate":
            out.append(share_td(col, row[c[5] if len(c) > 5 else col], row[c[2]], row[c[3]], c[4]))
        elif kind == "money_per":
            out.append(str(value_td(col, row[col], "money",
                                    formatting.fraction(row[c[2]], row[c[3]], "money", "count"))))
        elif kind == "ratio_of":
            out.append(str(value_td(col, row[col], "ratio", formatting.fraction(row[c[2]], row[c[3]], "money"))))
        else:
            raise ValueError(f"unknown cell kind {kind!r}")
    return Markup("".join(out))


def build(data: dict[str, Any], site: Site, t: Translator) -> list[Page]:
    pages = []
    stores = site.stores
    panel_template = make_environment().get_template("_store_month.html")
    panel_context = {
        "t": t, "heads": table_heads(t), "dimensions": [d for d, _ in DIMENSIONS],
        "latest_month_key": latest_month_key(site),
    }
    for pos, store in enumerate(stores):
        code = store["store_code"]
        collected = data["by_store"][code]
        panels = []
        if collected["has_data"]:
            build_root_ = build_root(site.store_page(code), t.language)
            for m in site.months:
                key = month_key(m["month_end"])
                digest = collected["panels"][key]
                html = site.panels.get(code, digest, t.language)
                if html is None:
                    mo = _month(m, collected["months"].get(key, {}), t)
                    html = panel_template.render(mo=mo, build_root=build_root_, **panel_context)
                    site.panels.put(code, digest, t.language, html)
                panels.append(html)
        series = collected["series"]
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
                "has_data": collected["has_data"],
                "month_panels": Markup("".join(panels)),
                "charts": store_charts(series, t) if collected["has_data"] else {},
                "monthly_rows": Markup("").join(r["html"] for r in monthly),
                "score": churn_score.store_section(data["churn_score"], code, t),
            },
        ))
    return pages


# The header row of each per-month table: (label key, is a number column).
_HEADS = {
    "loss_type": (("store.loss_type", False), ("kpi.at_risk", True), ("kpi.churned", True),
                  ("store.churned_annual_spend", True)),
    "reasons": (("store.reason", False), ("store.responses", True), ("store.share_of_reached", True),
                ("kpi.confirmed_lost", True)),
    "destinations": (("store.destination", False), ("store.responses", True), ("store.share_of_reached", True),
                     ("kpi.confirmed_lost", True)),
}
_BREAKDOWN_COLUMNS = ("kpi.on_file", "kpi.at_risk", "kpi.churned", "kpi.hidden_churn", "kpi.churn_rate",
                      "kpi.value_weighted_churn_rate")


NUM_CLASS = ' class="num"'


def table_heads(t: Translator) -> dict[str, Markup]:
    """<thead> of every per-month table in one language (the same in every month)."""
    def head(columns) -> Markup:
        ths = "".join(f"<th{NUM_CLASS if num else ''}>{escape(t(key))}</th>" for key, num in columns)
        return Markup(f"<thead><tr>{ths}</tr></thead>")

    heads = {name: head(columns) for name, columns in _HEADS.items()}
    for dimension, _ in DIMENSIONS:
        heads[dimension] = head(((f"store.dimension.{dimension}", False),) + tuple((k, True) for k in _BREAKDOWN_COLUMNS))
    return heads


def store_label(store_code: str, store_name: str | None) -> str:
    return f"{store_code} {store_name}" if store_name else store_code


def _neighbour(site: Site, store: dict[str, Any]) -> dict[str, Any]:
    return {
        "store_code": store["store_code"],
        "label": store_label(store["store_code"], store["store_name"]),
        "path": site.store_page(store["store_code"]),
    }


def _month(m: dict[str, Any], rows: dict[str, Any], t: Translator) -> dict[str, Any]:
    """One month's panel of a store: its rows of every per-month query, the
    table rows joined in the page's language."""
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
        "funnel": funnel_steps(rows["store_status_funnel"], t) if rows.get("store_status_funnel") else None,
        "funnel_row": rows.get("store_status_funnel"),
        "cards": headline_cards(headline, t) if headline else [],
        "survey_cards": survey_cards(rows["store_surveys"], t) if rows.get("store_surveys") else [],
        "breakdowns": {
            dimension: _rows(breakdowns.get(dimension, []), "dimension_value", prefix, t,
                             f'data-dimension="{dimension}" data-value', "value")
            for dimension, prefix in DIMENSIONS
        },
        "loss_type": _rows(rows.get("store_loss_type", []), "loss_type", "loss_type", t, "data-loss-type"),
        "reasons": _rows(rows.get("store_survey_reasons", []), "reason", "survey_reason", t, "data-reason"),
        "destinations": _rows(rows.get("store_survey_destinations", []), "destination", "destination", t,
                              "data-destination"),
    }


# The funnel and the cards are worked out here, not in the template: the
# page repeats them in every month panel.

FUNNEL_STEPS = (
    # (step, label key, share column, bar colour)
    ("on_file", "kpi.on_file", None, "#607d8b"),
    ("active", "kpi.active", "active_share", charts.STATUS_COLORS["active"]),
    ("at_risk", "kpi.at_risk", "at_risk_share", charts.STATUS_COLORS["at_risk"]),
    ("churned", "kpi.churned", "churned_share", charts.STATUS_COLORS["churned"]),
    ("hidden_churn", "store.funnel_hidden", "hidden_churn_share", "#ef6c00"),
)


def funnel_steps(f: dict[str, Any], t: Translator) -> list[dict[str, Any]]:
    """The status funnel of a month: each step's count and its share of on file."""
    steps = []
    for step, label, share_col, color in FUNNEL_STEPS:
        share = (1.0 if f["on_file"] else None) if share_col is None else f[share_col]
        steps.append({
            "step": step,
            "label": t(label),
            "count": formatting.count(f[step]),
            "share": formatting.rate(share),
            "title": formatting.fraction(f[step], f["on_file"]),
            "width": f"{(0.0 if formatting.is_null(share) else float(share)) * 100:.1f}%",
            "color": color,
        })
    return steps


def _card(key: str, label: str, value: str, title: str | None = None, detail: str | None = None) -> dict[str, Any]:
    return {"key": key, "label": label, "value": value, "title": title, "detail": detail}


def headline_cards(h: dict[str, Any], t: Translator) -> list[dict[str, Any]]:
    """The month's headline KPIs: every rate with its numerator/denominator as the title."""
    fr, rate, money, count = formatting.fraction, formatting.rate, formatting.money, formatting.count
    churn_detail = fr(h["churned"], h["on_file"])
    if not formatting.is_null(h["churn_rate"]) and not formatting.is_null(h["prev_churn_rate"]):
        churn_detail += f" · {t('store.vs_prev')} {formatting.points(h['churn_rate'] - h['prev_churn_rate'])}"
    vw = fr(h["churned_annual_spend"], h["on_file_annual_spend"], "money")
    cohort = fr(h["cohort_returned"], h["cohort_size"])
    per_ticket = fr(h["revenue"], h["paid_visits"], "money", "count")
    labor_parts = fr(h["parts_amount"], h["labor_amount"], "money")
    margin = fr(h["gross_profit"], h["revenue"], "money")
    renewal = fr(h["policies_renewed"], h["policies_expiring"])
    win_back = fr(h["won_back_after_survey"], h["win_back_eligible"])
    return [
        _card("churn_rate", t("kpi.churn_rate"), rate(h["churn_rate"]), fr(h["churned"], h["on_file"]), churn_detail),
        _card("value_weighted_churn_rate", t("kpi.value_weighted_churn_rate"), rate(h["value_weighted_churn_rate"]),
              vw, vw),
        _card("cohort_retention_rate", t("kpi.cohort_retention_rate"), rate(h["cohort_retention_rate"]),
              cohort, cohort),
        _card("per_ticket_value", t("kpi.per_ticket_value"), money(h["per_ticket_value"]), per_ticket, per_ticket),
        _card("labor_parts_ratio", t("kpi.labor_parts_ratio"), formatting.ratio(h["labor_parts_ratio"]), labor_parts,
              f"{labor_parts} · {t('kpi.labor_share')} {rate(h['labor_share'])}"),
        _card("gross_margin", t("kpi.gross_margin"), rate(h["gross_margin"]), margin, margin),
        _card("renewal_rate", t("kpi.renewal_rate"), rate(h["renewal_rate"]), renewal, renewal),
        _card("win_back_rate", t("kpi.win_back_rate"), rate(h["win_back_rate"]), win_back,
              t("store.win_back_detail", won=count(h["won_back_after_survey"]),
                eligible=count(h["win_back_eligible"]), pending=count(h["win_back_pending"]))),
        _card("value_at_risk", t("kpi.value_at_risk"), money(h["value_at_risk"]), None,
              t("store.value_at_risk_detail", at_risk=count(h["at_risk"]))),
        _card("lifetime_value_lost", t("kpi.lifetime_value_lost"), money(h["lifetime_value_lost"]), None,
              t("store.lifetime_value_lost_detail", newly_churned=count(h["newly_churned"]),
                spend=money(h["newly_churned_annual_spend"]))),
        _card("revenue", t("kpi.revenue"), money(h["revenue"]), None,
              t("store.revenue_detail", visits=count(h["visits"]), paid=count(h["paid_visits"]))),
    ]


def survey_cards(s: dict[str, Any], t: Translator) -> list[dict[str, Any]]:
    """The month's surveys: sent, reached, confirmed lost."""
    fr, count = formatting.fraction, formatting.count
    reached = fr(s["reached_surveys"], s["surveys"])
    lost = fr(s["confirmed_lost"], s["reached_surveys"])
    return [
        _card("surveys", t("kpi.surveys"), count(s["surveys"])),
        _card("reached_surveys", t("kpi.reached_surveys"), count(s["reached_surveys"]), reached, reached),
        _card("confirmed_lost", t("kpi.confirmed_lost"), count(s["confirmed_lost"]), lost,
              f"{t('kpi.confirmed_lost_rate')} {formatting.rate(s['confirmed_lost_rate'])} ({lost})"),
    ]


def _rows(rows: list[dict[str, Any]], key: str, prefix: str, t: Translator, attr: str,
          col: str | None = None) -> Markup:
    """Table rows: `<tr attr="value"><td data-col=...>label</td>cells</tr>`; '' when none."""
    out = []
    for r in rows:
        value = r[key]
        raw = escape("none" if value is None else value)
        out.append(f'<tr {attr}="{raw}"><td data-col="{col or key}">{escape(t.value(prefix, value))}</td>'
                   f'{r["cells"]}</tr>\n')
    return Markup("".join(out))


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
            rate_series(ct, t("kpi.churn_rate"), "churn_rate", "churned", "on_file", color="#c62828"),
            rate_series(ct, t("kpi.cohort_churn_rate"), "cohort_churn_rate", "cohort_lost", "cohort_size",
                        color="#1f77b4"),
            rate_series(ct, t("kpi.value_weighted_churn_rate"), "value_weighted_churn_rate",
                        "churned_annual_spend", "on_file_annual_spend", color="#9467bd", kind="money", dash="6 3"),
        ],
        title=t("store.churn_trend"), y_label=t("axis.rate"), kind="rate", css_class="churn-trend",
    )

    co = Aligned(series.get("store_cohort_retention", []), axis)
    out["cohort_retention"] = charts.line_chart(
        labels,
        [rate_series(co, t("kpi.cohort_retention_rate"), "cohort_retention_rate", "cohort_returned", "cohort_size",
                     color="#2ca02c")],
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
        [rate_series(rn, t("kpi.renewal_rate"), "renewal_rate", "policies_renewed", "policies_expiring",
                     color="#2ca02c")],
        title=t("store.renewal"), y_label=t("store.axis.renewal"), kind="rate",
        css_class="renewal", y_max=1.0, **half,
    )
    return out
