"""The call list of each store (回访名单, call_lists/<store>.html): the service
manager's customers to phone, as of the latest data (not per month).

The page shows the list in call order with masked contacts only (张*,
138****5678), how many customers each call reason brings, and the command
that exports the whole list with real names and phone numbers (the one file
that holds them, SPEC section 9). A store's list can run to thousands of
customers: the page shows the first PAGE_ROWS, the export has them all.
"""

from __future__ import annotations

import html
import shlex
from collections import defaultdict
from pathlib import Path
from typing import Any

from markupsafe import Markup

from dashboards import formatting
from dashboards.i18n import Translator
from dashboards.site import Page, Site, store_file_name
from dashboards.sql import run_query

QUERIES = ("call_list_rows", "call_list_reasons")

# Customers a page shows per store; the export (`aftersales call-list`) has the rest.
PAGE_ROWS = 500

# Call reasons in the order the page lists them (marts.call_list.call_reason).
CALL_REASONS = ("hidden_churn", "at_risk", "churned")


def export_command(store_code: str) -> str:
    """The command that writes the store's list with real contacts (orchestration/cli.py)."""
    out = f"call_list_{Path(store_file_name(store_code)).stem}.csv"
    return f"aftersales call-list --store {shlex.quote(store_code)} --out {out}"


# The list's columns: (data-col, kind). kind is a formatting kind (count,
# money, day), "text" for a value shown as it is, or the label prefix of an
# enumeration ("call_reason" -> call_reason.at_risk in labels.yml).
ROW_COLUMNS = (
    ("call_rank", "count"),
    ("call_reason", "call_reason"),
    ("churn_status", "kpi"),
    ("name_masked", "text"),
    ("phone_masked", "text"),
    ("customer_id", "text"),
    ("customer_type", "customer_type"),
    ("vehicle", "text"),
    ("vin", "text"),
    ("last_visit_date", "day"),
    ("last_service_type", "service_type"),
    ("days_since_last_visit", "count"),
    ("estimated_mileage_km", "count"),
    ("mileage_due_date", "day"),
    ("annual_spend", "money"),
    ("lifetime_revenue", "money"),
    ("total_visits", "count"),
    ("churned_on", "day"),
    ("last_survey_date", "day"),
    ("loss_type", "loss_type"),
    ("loss_destination", "loss_destination"),
)
NUMERIC = {"count", "money"}
NUM_CLASS = ' class="num"'


# The cell opening of each column, worked out once: row_html runs for up to
# stores x PAGE_ROWS rows per language.
_CELL_OPENINGS = tuple(
    (col, kind, f'<td{NUM_CLASS if kind in NUMERIC else ""} data-col="{col}">') for col, kind in ROW_COLUMNS
)


def row_html(row: dict[str, Any], t: Translator, labels: dict | None = None) -> Markup:
    """One <tr> of the list (built in Python, not in the template: a site
    holds up to stores x PAGE_ROWS of them per language). `labels` caches
    the enumeration labels across rows."""
    labels = {} if labels is None else labels
    cells = []
    for col, kind, opening in _CELL_OPENINGS:
        value = row[col] if col != "vehicle" else " ".join(v for v in (row["brand"], row["model"]) if v)
        if kind == "text":
            text = html.escape(value) if value else formatting.NULL
        elif kind in formatting.FORMATTERS:
            # Numbers, money and dates: digits, separators, ¥ and — only, nothing to escape.
            text = formatting.FORMATTERS[kind](value)
        else:
            key = (kind, value)
            text = labels.get(key)
            if text is None:
                text = labels[key] = html.escape(t.value(kind, value))
        cells.append(f"{opening}{text}</td>")
    return Markup(
        f'<tr data-rank="{row["call_rank"]}" data-customer-key="{html.escape(row["customer_key"] or "")}" '
        f'data-reason="{html.escape(row["call_reason"] or "")}">{"".join(cells)}</tr>'
    )


def collect(con, site: Site) -> dict[str, Any]:
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in run_query(con, "call_list_rows", max_rows=PAGE_ROWS):
        rows[row["store_code"]].append(row)
    reasons: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    as_of: dict[str, Any] = {}
    for row in run_query(con, "call_list_reasons"):
        reasons[row["store_code"]][row["call_reason"]] = row
        previous = as_of.get(row["store_code"])
        if previous is None or (row["as_of_date"] is not None and row["as_of_date"] > previous):
            as_of[row["store_code"]] = row["as_of_date"]
    return {
        "rows": rows,
        "reasons": reasons,
        "as_of": as_of,
        # a store without customers to call still has a data date: the list's
        "list_as_of": max(as_of.values()) if as_of else None,
    }


def build(data: dict[str, Any], site: Site, t: Translator) -> list[Page]:
    pages = []
    labels: dict = {}  # enumeration labels in t's language, shared by the stores' rows
    for store in site.stores:
        code = store["store_code"]
        by_reason = data["reasons"].get(code, {})
        # the reasons the marts know, in the page's order, then any other
        reason_rows = [
            {"call_reason": r, "customers": by_reason[r]["customers"] if r in by_reason else 0,
             "annual_spend": by_reason[r]["annual_spend"] if r in by_reason else None}
            for r in CALL_REASONS
        ] + [row for r, row in sorted(by_reason.items()) if r not in CALL_REASONS]
        total = sum(r["customers"] for r in reason_rows)
        spend = [r["annual_spend"] for r in reason_rows if r["annual_spend"] is not None]
        rows = data["rows"].get(code, [])
        pages.append(Page(
            path=site.call_list_page(code),
            template="call_list.html",
            store_code=code,
            context={
                "store": store,
                "rows": [row_html(r, t, labels) for r in rows],
                "reason_rows": reason_rows,
                "total_customers": total,
                "total_annual_spend": sum(spend) if spend else None,
                "as_of_date": data["as_of"].get(code, data["list_as_of"]),
                "truncated": total > len(rows),
                "page_rows": PAGE_ROWS,
                "export_command": export_command(code),
            },
        ))
    return pages
