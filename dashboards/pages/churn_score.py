"""The churn risk score's sections (流失风险评分) on the store and group pages.

The store page shows the risk distribution of the store's latest scored
month (customers by p_return band, with the annual spend they hold and the
expected value at risk), the calibration of the latest month with complete
six-month outcomes (predicted against observed return rate per score
decile, with the diagonal) and the score's AUC and Brier against the fixed
rule and recency (that month, and the mean over the backtest months). The
group page shows each store's AUC against the rule and recency.

The sections are not per month: the month filter does not apply to them. A
warehouse built before the score marts says so; one whose landing is too
short to score (a model needs 12 month ends of complete outcomes: the 18th
month of a landing) says that no month is scored yet.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from markupsafe import Markup, escape

from dashboards import charts, formatting
from dashboards.i18n import Translator
from dashboards.site import Site, rate_td, value_td
from dashboards.sql import relation_exists, run_query

QUERIES = ("score_distribution", "score_calibration", "score_backtest", "group_score_auc")
MARTS = ("churn_scores", "churn_score_backtest", "churn_score_calibration")
BANDS = 10
# The three rankings compared, in the order of the tables and charts.
RANKERS = (("score", "#c62828"), ("fixed_rule", "#607d8b"), ("recency", "#1f77b4"))


def _missing(con) -> str | None:
    missing = [name for name in MARTS if not relation_exists(con, "marts", name)]
    return ", ".join(f"marts.{name}" for name in missing) or None


def collect_store(con) -> dict[str, Any]:
    """The store sections' rows, by store (store.py's collect calls it)."""
    missing = _missing(con)
    by_store: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    if not missing:
        for name in ("score_distribution", "score_calibration", "score_backtest"):
            for row in run_query(con, name):
                by_store[row["store_code"]][name].append(row)
    return {"missing": missing, "by_store": by_store}


def collect_group(con) -> dict[str, Any]:
    """The group section's rows (group.py's collect calls it)."""
    missing = _missing(con)
    return {"missing": missing, "group_auc": [] if missing else run_query(con, "group_score_auc")}


# ------------------------------------------------------------------ store page


def store_section(data: dict[str, Any], store_code: str, t: Translator) -> dict[str, Any]:
    """The context of the store page's score section."""
    if data["missing"]:
        return {"missing": data["missing"], "distribution": None}
    rows = data["by_store"].get(store_code, {})
    distribution = rows.get("score_distribution", [])
    calibration = rows.get("score_calibration", [])
    backtest = rows.get("score_backtest", [])
    return {
        "missing": None,
        "scored_month": distribution[0]["month_end"] if distribution else None,
        "distribution": distribution_rows(distribution) if distribution else None,
        "distribution_chart": distribution_chart(distribution, t) if distribution else None,
        "calibration_month": calibration[0]["month_end"] if calibration else None,
        "calibration": calibration_rows(calibration) if calibration else None,
        "calibration_chart": calibration_chart(calibration, t) if calibration else None,
        "backtest": backtest_rows(backtest, t) if backtest else None,
    }


def band_label(band: int) -> str:
    """'0.3–0.4': the band's p_return range."""
    return f"{band / BANDS:.1f}–{(band + 1) / BANDS:.1f}"


def _by_band(rows: list[dict[str, Any]]) -> list[dict[str, Any] | None]:
    found = {r["band"]: r for r in rows}
    return [found.get(band) for band in range(BANDS)]


def distribution_rows(rows: list[dict[str, Any]]) -> Markup:
    """One table row per band, empty bands included (0 customers)."""
    out = []
    total = rows[0]["store_customers"]
    for band, r in enumerate(_by_band(rows)):
        customers = r["customers"] if r else 0
        out.append(
            f'<tr data-row="band:{band}"><td data-col="band">{band_label(band)}</td>'
            + str(value_td("customers", customers))
            + str(rate_td("share", customers / total if total else None, customers, total))
            + str(value_td("annual_spend", r["annual_spend"] if r else 0, "money"))
            + str(value_td("expected_value_at_risk", r["expected_value_at_risk"] if r else 0, "money"))
            + "</tr>\n"
        )
    return Markup("".join(out))


def distribution_chart(rows: list[dict[str, Any]], t: Translator) -> Markup:
    bands = _by_band(rows)
    total = rows[0]["store_customers"]
    tips = [
        t("score.band_tip", band=band_label(band), customers=formatting.count(r["customers"] if r else 0),
          total=formatting.count(total), value=formatting.money(r["expected_value_at_risk"] if r else 0))
        for band, r in enumerate(bands)
    ]
    return charts.bar_chart(
        [band_label(band) for band in range(BANDS)],
        [charts.Series(t("axis.customers"), [r["customers"] if r else 0 for r in bands], color="#1f77b4",
                       tooltips=tips)],
        title=t("score.distribution_chart", month=formatting.month(rows[0]["month_end"])),
        y_label=t("axis.customers"), kind="count", css_class="score-distribution", stacked=False,
        width=charts.HALF_WIDTH, legend=False,
    )


def calibration_rows(rows: list[dict[str, Any]]) -> Markup:
    return Markup("".join(
        f'<tr data-row="decile:{r["decile"]}"><td class="num" data-col="decile">{r["decile"]}</td>'
        + str(value_td("customers", r["customers"]))
        + f'<td class="num" data-col="mean_p_return">{formatting.rate(r["mean_p_return"])}</td>'
        + str(rate_td("observed_return_rate", r["observed_return_rate"], r["returned"], r["customers"]))
        + "</tr>\n"
        for r in rows
    ))


def calibration_chart(rows: list[dict[str, Any]], t: Translator) -> Markup:
    points = [
        (r["mean_p_return"], r["observed_return_rate"],
         t("score.decile_tip", decile=r["decile"], predicted=formatting.rate(r["mean_p_return"]),
           observed=formatting.rate(r["observed_return_rate"]),
           fraction=formatting.fraction(r["returned"], r["customers"])))
        for r in rows
    ]
    return charts.calibration_chart(
        points, title=t("score.calibration_chart", month=formatting.month(rows[0]["month_end"])),
        x_label=t("score.axis.predicted"), y_label=t("score.axis.observed"),
        diagonal_label=t("score.diagonal"), points_label=t("score.deciles"),
    )


def _ratio3(value: Any) -> str:
    return formatting.ratio(value, 3)


def backtest_rows(rows: list[dict[str, Any]], t: Translator) -> Markup:
    """The latest backtest month and the mean over the months: customers,
    base rate, and AUC / Brier of each ranking."""
    out = []
    for r in sorted(rows, key=lambda r: r["period"]):  # latest, then mean
        # The words go in the period cell; the figures' titles are numbers only,
        # the same in both languages.
        if r["period"] == "latest":
            period = formatting.month(r["last_month"])
        else:
            period = t("score.mean_over", first=formatting.month(r["first_month"]),
                       last=formatting.month(r["last_month"]), months=r["months"])
        base_title = formatting.fraction(r["returned"], r["customers"])
        cells = [f'<td data-col="period">{escape(period)}</td>', str(value_td("customers", r["customers"])),
                 str(value_td("returned", r["returned"])),
                 f'<td class="num" data-col="base_rate" title="{escape(base_title)}">'
                 f'{formatting.rate(r["base_rate"])}</td>']
        cells += [f'<td class="num" data-col="{key}_auc">{_ratio3(r[f"{key}_auc"])}</td>' for key, _ in RANKERS]
        cells += [f'<td class="num" data-col="{key}">{_ratio3(r[key])}</td>'
                  for key in ("score_brier", "fixed_rule_brier", "base_rate_brier")]
        out.append(f'<tr data-row="{r["period"]}">{"".join(cells)}</tr>\n')
    return Markup("".join(out))


# ------------------------------------------------------------------ group page


def group_section(data: dict[str, Any], site: Site, t: Translator) -> dict[str, Any]:
    if data["missing"]:
        return {"missing": data["missing"], "month": None}
    rows = data["group_auc"]
    if not rows:
        return {"missing": None, "month": None}
    stores = [r for r in rows if r["scope_level"] == "store"]
    return {
        "missing": None,
        "month": rows[0]["month_end"],
        "table": auc_rows(rows, site, t),
        "chart": auc_chart(stores, t) if stores else None,
    }


def _scope_label(r: dict[str, Any], t: Translator) -> str:
    if r["scope_level"] == "group":
        return t("scope.group")
    return f"{r['scope_code']} {r['store_name']}" if r["store_name"] else r["scope_code"]


def auc_rows(rows: list[dict[str, Any]], site: Site, t: Translator) -> Markup:
    out = []
    for r in rows:
        label = escape(_scope_label(r, t))
        if r["scope_level"] == "store" and r["scope_code"] in site.store_files:
            label = Markup(f'<a href="{site.store_page(r["scope_code"])}#churn-score" data-keep-filters>{label}</a>')
        region = f' data-region-row="{escape(r["region"])}"' if r["region"] else ""
        cells = [f'<td data-col="scope">{label}</td>', str(value_td("customers", r["customers"])),
                 str(rate_td("base_rate", r["base_rate"], r["returned"], r["customers"]))]
        cells += [f'<td class="num" data-col="{key}_auc">{_ratio3(r[f"{key}_auc"])}</td>' for key, _ in RANKERS]
        cells += [f'<td class="num" data-col="{key}">{_ratio3(r[key])}</td>'
                  for key in ("score_brier", "fixed_rule_brier")]
        key = f'{escape(r["scope_level"])}:{escape(r["scope_code"])}'
        out.append(f'<tr data-row="{key}"{region}>{"".join(cells)}</tr>\n')
    return Markup("".join(out))


def auc_chart(stores: list[dict[str, Any]], t: Translator) -> Markup:
    categories = [r["scope_code"] for r in stores]
    series = []
    for key, color in RANKERS:
        name = t(f"score.ranker.{key}")
        series.append(charts.Series(
            name, [r[f"{key}_auc"] for r in stores], color=color,
            tooltips=[f"{r['scope_code']} {name} AUC {_ratio3(r[f'{key}_auc'])} ("
                      + t("score.customers_returned", customers=formatting.count(r["customers"]),
                          returned=formatting.count(r["returned"])) + ")"
                      for r in stores],
        ))
    return charts.bar_chart(
        categories, series, title=t("score.auc_chart", month=formatting.month(stores[0]["month_end"])),
        y_label="AUC", kind="ratio", css_class="score-auc", stacked=False,
    )
