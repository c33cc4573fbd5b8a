"""Render the static dashboards from the marts of a DuckDB warehouse.

    python -m dashboards.render --warehouse var/warehouse.duckdb --out var/dashboards

Output (self-contained, no network needed to view or print it):

    <out>/index.html              group overview: league table + churn trend
    <out>/stores/<store>.html     one page per store
    <out>/queries/*.sql           the SQL behind every section (linked from it)

Every figure comes from a query in ``dashboards/queries`` that reads only
``marts.*``; the queries aggregate in SQL so the data pulled into Python is
bounded by stores x months (fct_customer_month is only read grouped). The
warehouse is opened read-only and closed before the pages are written.
"""

from __future__ import annotations

import argparse
import calendar
import hashlib
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import duckdb
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from dashboards import charts, formatting

PACKAGE_DIR = Path(__file__).resolve().parent
QUERIES_DIR = PACKAGE_DIR / "queries"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
PROJECT_DIR = PACKAGE_DIR.parent

REQUIRED_TABLES = ("dim_stores", "kpi_store_month", "fct_customer_month")

STATUS_LABELS = {
    "active": "在保 (active)",
    "at_risk": "流失风险 (at risk)",
    "churned": "流失 (churned)",
}
LOSS_TYPE_LABELS = {
    "natural": "自然流失 (natural: sold / moved)",
    "insurer_assigned": "保险指定 (insurer assigned, not lost)",
    "competitor": "他店截流 (competitor)",
    "unknown": "原因不明 (unknown)",
    None: "未回访 (no reached survey)",
}


class DashboardError(RuntimeError):
    """The warehouse cannot be rendered (missing, locked, marts not built)."""


@dataclass(frozen=True)
class RenderResult:
    index_page: Path
    store_pages: dict[str, Path]


# ---------------------------------------------------------------------- queries


@lru_cache(maxsize=None)
def load_query(name: str) -> str:
    return (QUERIES_DIR / f"{name}.sql").read_text(encoding="utf-8")


_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")


def run_query(con: duckdb.DuckDBPyConnection, name: str, **params: Any) -> list[dict[str, Any]]:
    """Run queries/<name>.sql with the named parameters it uses ($store_code ...)."""
    sql = load_query(name)
    used = set(_PARAM.findall(sql))
    missing = used - params.keys()
    if missing:
        raise DashboardError(f"queries/{name}.sql needs parameters {sorted(missing)}")
    try:
        cur = con.execute(sql, {k: params[k] for k in used}) if used else con.execute(sql)
        columns = [d[0] for d in cur.description]
        return [dict(zip(columns, row)) for row in cur.fetchall()]
    except duckdb.Error as exc:
        raise DashboardError(f"queries/{name}.sql failed: {exc}") from exc


def _connect(warehouse: Path) -> duckdb.DuckDBPyConnection:
    if not warehouse.is_file():
        raise DashboardError(
            f"warehouse {warehouse} does not exist; build it first (aftersales run --warehouse ...)"
        )
    try:
        return duckdb.connect(str(warehouse), read_only=True)
    except duckdb.IOException as exc:
        if "lock" in str(exc).lower():
            raise DashboardError(
                f"warehouse {warehouse} is locked by a writing process (is a run in progress?): {exc}"
            ) from exc
        raise DashboardError(f"cannot open warehouse {warehouse}: {exc}") from exc


def _check_marts(con: duckdb.DuckDBPyConnection, warehouse: Path) -> None:
    present = {
        row[0]
        for row in con.execute(
            "select table_name from information_schema.tables where table_schema = 'marts'"
        ).fetchall()
    }
    missing = [t for t in REQUIRED_TABLES if t not in present]
    if missing:
        raise DashboardError(
            f"warehouse {warehouse} lacks {', '.join('marts.' + t for t in missing)}; "
            "build the marts (dbt build) before rendering the dashboards"
        )


# ------------------------------------------------------------------ collecting


def _in_progress(row: dict[str, Any] | None) -> bool:
    return bool(row and row.get("as_of_date") and row["as_of_date"] < row["month_end"])


def collect_group(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    summary = run_query(con, "group_summary")[0]
    league = run_query(con, "group_league_table")
    trend = run_query(con, "group_churn_trend")
    return {"summary": summary, "league": league, "trend": trend}


STORE_SECTIONS = (
    "store_headline",
    "store_status_mix",
    "store_churn_trend",
    "store_revenue_trend",
    "store_labor_parts",
    "store_renewal_trend",
    "store_monthly_kpis",
    "store_churn_by_model",
    "store_loss_type",
)


def collect_stores(con: duckdb.DuckDBPyConnection, store_codes: list[str]) -> dict[str, dict[str, list]]:
    """Every store section, each queried once for all stores ($store_code NULL)
    and split by store: len(STORE_SECTIONS) queries whatever the number of stores."""
    data: dict[str, dict[str, list]] = {
        code: {section: [] for section in STORE_SECTIONS} for code in store_codes
    }
    for section in STORE_SECTIONS:
        for row in run_query(con, section, store_code=None):
            store = data.get(row["store_code"])
            if store is not None:
                store[section].append(row)
    return data


# ---------------------------------------------------------------------- charts


def _store_label(store_code: str, store_name: str | None) -> str:
    return f"{store_code} {store_name}" if store_name else store_code


def group_churn_chart(trend: list[dict[str, Any]], league: list[dict[str, Any]]) -> Markup:
    """One churn-rate line per store over all months, in league-table order."""
    months = month_axis(r["month_end"] for r in trend)
    index = {m: i for i, m in enumerate(months)}
    names = {r["store_code"]: r["store_name"] for r in league}
    order = [r["store_code"] for r in league]
    order += sorted({r["store_code"] for r in trend} - set(order))
    values = {code: [None] * len(months) for code in order}
    tips = {code: [None] * len(months) for code in order}
    for r in trend:
        code, i = r["store_code"], index[r["month_end"]]
        values[code][i] = r["churn_rate"]
        tips[code][i] = (
            f"{_store_label(code, names.get(code))} {formatting.month(r['month_end'])}: "
            f"{formatting.rate(r['churn_rate'])} ({formatting.fraction(r['churned'], r['on_file'])})"
        )
    return charts.line_chart(
        [formatting.month(m) for m in months],
        [
            charts.Series(_store_label(code, names.get(code)), values[code], tooltips=tips[code])
            for code in order
            if any(v is not None for v in values[code])
        ],
        title="各门店流失率趋势 (churn rate by store)",
        y_label="流失率 (churn rate = churned / on file)",
        kind="rate",
        css_class="group-churn-trend",
    )


def month_axis(month_ends) -> list:
    """Every month end from the first to the last, so that a month missing from
    the marts shows as a gap rather than silently joining its neighbours."""
    distinct = sorted(set(month_ends))
    if not distinct:
        return []
    first, last = distinct[0], distinct[-1]
    axis, year, month = [], first.year, first.month
    while (year, month) <= (last.year, last.month):
        axis.append(date(year, month, calendar.monthrange(year, month)[1]))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    if not set(distinct) <= set(axis):  # month_end values that are not month ends
        return distinct
    return axis


class Aligned:
    """A store's rows of one section laid on a month axis."""

    def __init__(self, rows: list[dict[str, Any]], axis: list) -> None:
        self.by_month = {r["month_end"]: r for r in rows}
        self.axis = axis

    def values(self, key: str) -> list:
        return [self.by_month[m][key] if m in self.by_month else None for m in self.axis]

    def tips(self, text) -> list[str | None]:
        return [text(self.by_month[m]) if m in self.by_month else None for m in self.axis]


def store_charts(data: dict[str, Any]) -> dict[str, Markup]:
    """The charts of a store page, all on the same month axis."""
    axis = month_axis(r["month_end"] for r in data["store_status_mix"])
    labels = [formatting.month(m) for m in axis]
    fm, rate, money, count, frac = (
        formatting.month, formatting.rate, formatting.money, formatting.count, formatting.fraction
    )
    out: dict[str, Markup] = {}

    mix = Aligned(data["store_status_mix"], axis)
    out["status_mix"] = charts.bar_chart(
        labels,
        [
            charts.Series(
                STATUS_LABELS[status],
                mix.values(status),
                color=charts.STATUS_COLORS[status],
                tooltips=mix.tips(
                    lambda r, s=status: f"{fm(r['month_end'])} {STATUS_LABELS[s]}: {count(r[s])} "
                    f"/ {count(r['on_file'])} on file"
                    + (f"; hidden churn {count(r['hidden_churn'])}" if s == "active" else "")
                ),
            )
            for status in ("active", "at_risk", "churned")
        ],
        title="客户状态构成 (status mix)", y_label="客户数 (customers = vehicles)",
        kind="count", css_class="status-mix",
    )

    ct = Aligned(data["store_churn_trend"], axis)
    out["churn_trend"] = charts.line_chart(
        labels,
        [
            charts.Series(
                "流失率 (churn rate)", ct.values("churn_rate"), color="#c62828",
                tooltips=ct.tips(lambda r: f"{fm(r['month_end'])} 流失率 (churn rate): "
                                 f"{rate(r['churn_rate'])} ({frac(r['churned'], r['on_file'])})"),
            ),
            charts.Series(
                "六个月队列流失率 (6-month cohort churn)", ct.values("cohort_churn_rate"), color="#1f77b4",
                tooltips=ct.tips(lambda r: f"{fm(r['month_end'])} 队列流失率 (cohort churn): "
                                 f"{rate(r['cohort_churn_rate'])} ({frac(r['cohort_lost'], r['cohort_size'])})"),
            ),
            charts.Series(
                "相对流失率 (value-weighted churn)", ct.values("value_weighted_churn_rate"),
                color="#9467bd", dash="6 3",
                tooltips=ct.tips(lambda r: f"{fm(r['month_end'])} 相对流失率 (value-weighted): "
                                 f"{rate(r['value_weighted_churn_rate'])} "
                                 f"({frac(r['churned_annual_spend'], r['on_file_annual_spend'], 'money')})"),
            ),
        ],
        title="流失率趋势 (churn trend)", y_label="比率 (rate)", kind="rate", css_class="churn-trend",
    )

    half = {"width": charts.HALF_WIDTH, "plot_height": 180, "legend": False}
    rv = Aligned(data["store_revenue_trend"], axis)
    out["revenue"] = charts.bar_chart(
        labels,
        [charts.Series(
            "产值 (revenue)", rv.values("revenue"), color="#1f77b4",
            tooltips=rv.tips(lambda r: f"{fm(r['month_end'])} 产值 (revenue): {money(r['revenue'])}, "
                             f"{count(r['paid_visits'])} paid visits"),
        )],
        title="产值 (revenue)", y_label="产值 (revenue, ¥)", kind="money", css_class="revenue", **half,
    )
    out["per_ticket"] = charts.line_chart(
        labels,
        [charts.Series(
            "客单价 (per-ticket value)", rv.values("per_ticket_value"), color="#ff7f0e",
            tooltips=rv.tips(lambda r: f"{fm(r['month_end'])} 客单价 (per-ticket value): "
                             f"{money(r['per_ticket_value'])} ({frac(r['revenue'], r['paid_visits'], 'money', 'count')})"),
        )],
        title="客单价 (per-ticket value)", y_label="客单价 (revenue / paid visits, ¥)", kind="money",
        css_class="per-ticket", **half,
    )

    lp = Aligned(data["store_labor_parts"], axis)
    out["labor_parts"] = charts.line_chart(
        labels,
        [charts.Series(
            "料工比 (labor-parts ratio)", lp.values("labor_parts_ratio"), color="#8c564b",
            tooltips=lp.tips(lambda r: f"{fm(r['month_end'])} 料工比 (parts / labor): "
                             f"{formatting.ratio(r['labor_parts_ratio'])} "
                             f"({frac(r['parts_amount'], r['labor_amount'], 'money')}); "
                             f"labor share {rate(r['labor_share'])}"),
        )],
        title="料工比 (labor-parts ratio)", y_label="料工比 (parts / labor)", kind="ratio",
        css_class="labor-parts", **half,
    )

    rn = Aligned(data["store_renewal_trend"], axis)
    out["renewal"] = charts.line_chart(
        labels,
        [charts.Series(
            "续保率 (renewal rate)", rn.values("renewal_rate"), color="#2ca02c",
            tooltips=rn.tips(lambda r: f"{fm(r['month_end'])} 续保率 (renewal rate): "
                             f"{rate(r['renewal_rate'])} ({frac(r['policies_renewed'], r['policies_expiring'])})"),
        )],
        title="续保率 (renewal rate)", y_label="续保率 (renewed / expiring)", kind="rate",
        css_class="renewal", y_max=1.0, **half,
    )
    return out


# -------------------------------------------------------------------- rendering


def store_file_name(store_code: str) -> str:
    """A file name for a store page: the code itself when it is filename-safe."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", store_code) and ".." not in store_code:
        return f"{store_code}.html"
    safe = "".join(ch if ch.isalnum() and ch.isascii() else "_" for ch in store_code)
    digest = hashlib.sha1(store_code.encode("utf-8")).hexdigest()[:10]
    return f"{safe}-{digest}.html"


def rate_td(col: str, value: Any, num: Any, den: Any, kind: str = "count", den_kind: str | None = None) -> Markup:
    """<td> with a rate, its numerator/denominator as the title (a Python
    function, not a Jinja macro: the tables have thousands of cells)."""
    cls = "num null" if formatting.is_null(value) else "num"
    title = ""
    if not (formatting.is_null(num) and formatting.is_null(den)):
        title = f' title="{escape(formatting.fraction(num, den, kind, den_kind))}"'
    return Markup(f'<td class="{cls}" data-col="{escape(col)}"{title}>{formatting.rate(value)}</td>')


def value_td(col: str, value: Any, kind: str = "count", title: str | None = None) -> Markup:
    """<td> with a count, amount, ratio or change, formatted by `kind`."""
    cls = "num null" if formatting.is_null(value) else "num"
    title_attr = f' title="{escape(title)}"' if title else ""
    return Markup(
        f'<td class="{cls}" data-col="{escape(col)}"{title_attr}>{escape(formatting.value(value, kind))}</td>'
    )


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    # |num (not |count: that is a Jinja builtin), |money, |rate, |ratio, |points, |month, |day
    for name, fn in formatting.FORMATTERS.items():
        env.filters["num" if name == "count" else name] = fn
    env.globals["fmt"] = formatting.value
    env.globals["fraction"] = formatting.fraction
    env.globals["rate_td"] = rate_td
    env.globals["value_td"] = value_td
    env.globals["NULL"] = formatting.NULL
    env.globals["STATUS_LABELS"] = STATUS_LABELS
    env.globals["LOSS_TYPE_LABELS"] = LOSS_TYPE_LABELS
    return env


def _write(path: Path, text: str) -> None:
    """Write atomically: a reader (or web server) never sees half a page."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; the pages are meant to be served/read
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render_dashboards(warehouse: Path, out_dir: Path) -> RenderResult:
    """Query the marts of `warehouse` (read-only) and write the pages to `out_dir`."""
    warehouse = Path(warehouse).resolve()
    out_dir = Path(out_dir).resolve()

    con = _connect(warehouse)
    try:
        _check_marts(con, warehouse)
        group = collect_group(con)
        stores = run_query(con, "store_list")
        store_data = collect_stores(con, [s["store_code"] for s in stores])
    finally:
        con.close()

    env = make_environment()
    css = (STATIC_DIR / "dashboard.css").read_text(encoding="utf-8")
    generated_at = datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip()
    summary = group["summary"]
    common = {
        "css": Markup(css),
        "generated_at": generated_at,
        "warehouse_name": warehouse.name,
        "summary": summary,
        "in_progress": bool(
            summary["latest_as_of_date"]
            and summary["latest_month_end"]
            and summary["latest_as_of_date"] < summary["latest_month_end"]
        ),
    }

    file_names = {s["store_code"]: store_file_name(s["store_code"]) for s in stores}
    store_pages: dict[str, Path] = {}
    stores_dir = out_dir / "stores"

    index_html = env.get_template("index.html").render(
        **common,
        root="",
        league=group["league"],
        churn_chart=group_churn_chart(group["trend"], group["league"]),
        store_links={code: f"stores/{name}" for code, name in file_names.items()},
        stores_missing=[r for r in group["league"] if r["on_file"] is None],
    )

    store_template = env.get_template("store.html")
    for pos, store in enumerate(stores):
        code = store["store_code"]
        data = store_data[code]
        headline = data["store_headline"]
        latest = headline[0] if headline else None
        previous = headline[1] if len(headline) > 1 else None
        html = store_template.render(
            **common,
            root="../",
            store=store,
            store_label=_store_label(code, store["store_name"]),
            latest=latest,
            previous=previous,
            store_in_progress=_in_progress(latest),
            charts=store_charts(data) if latest else {},
            monthly=data["store_monthly_kpis"],
            by_model=data["store_churn_by_model"],
            loss_type=data["store_loss_type"],
            prev_store=(stores[pos - 1], file_names[stores[pos - 1]["store_code"]]) if pos > 0 else None,
            next_store=(stores[pos + 1], file_names[stores[pos + 1]["store_code"]])
            if pos + 1 < len(stores) else None,
        )
        page = stores_dir / file_names[code]
        _write(page, html)
        store_pages[code] = page

    index_page = out_dir / "index.html"
    _write(index_page, index_html)

    # The SQL behind each section, linked from the pages.
    (out_dir / "queries").mkdir(parents=True, exist_ok=True)
    for sql in sorted(QUERIES_DIR.glob("*.sql")):
        shutil.copyfile(sql, out_dir / "queries" / sql.name)

    # Pages of stores that are gone from the marts would be stale: remove them.
    current = {p.name for p in store_pages.values()}
    if stores_dir.is_dir():
        for old in stores_dir.glob("*.html"):
            if old.name not in current:
                old.unlink()

    return RenderResult(index_page=index_page, store_pages=store_pages)


# -------------------------------------------------------------------------- CLI


def default_warehouse() -> Path:
    return Path(os.environ.get("AFTERSALES_DUCKDB", PROJECT_DIR / "var" / "warehouse.duckdb"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dashboards.render",
        description="Render the static aftersales dashboards from the marts of a DuckDB warehouse.",
    )
    parser.add_argument(
        "--warehouse", type=Path, default=default_warehouse(),
        help="DuckDB warehouse file, opened read-only (default: $AFTERSALES_DUCKDB or var/warehouse.duckdb)",
    )
    parser.add_argument(
        "--out", type=Path, default=PROJECT_DIR / "var" / "dashboards",
        help="output folder (default: var/dashboards)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        result = render_dashboards(args.warehouse, args.out)
    except DashboardError as exc:
        print(f"dashboards: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    print(
        f"dashboards: wrote {result.index_page} and {len(result.store_pages)} store pages "
        f"in {elapsed:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
