"""The data quality page (数据质量, data_quality.html): the state now, not per
month. Freshness per store and drop source (late ones flagged), rows
quarantined by reason per store, rejected files, the latest Great
Expectations validation of each table, and links to the Data Docs and the
dbt docs.

The quarantine, rejected-file and validation relations came after
marts.source_freshness: a warehouse built before them renders the page with
"not available in this warehouse" in their sections instead of failing.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from dashboards.i18n import Translator
from dashboards.site import Page, Site
from dashboards.sql import relation_exists, run_query

QUERIES = ("dq_freshness", "dq_quarantine", "dq_rejected_files", "dq_validations")

# The relation each query reads; a query whose relation is missing is not run.
RELATIONS = {
    "dq_freshness": ("marts", "source_freshness"),
    "dq_quarantine": ("marts", "data_quality_quarantine"),
    "dq_rejected_files": ("marts", "data_quality_rejected_files"),
    "dq_validations": ("ops", "validation_results"),
}

# Rejected files listed on the page, newest first (the count says how many in all).
REJECTED_FILES_SHOWN = 500

# How each docs site is built when it is not there yet.
DATA_DOCS_COMMAND = "aftersales run"
DBT_DOCS_COMMAND = "make docs"


def collect(con, site: Site) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for name in QUERIES:
        schema, table = RELATIONS[name]
        if not relation_exists(con, schema, table):
            data[name] = None  # the page says the relation is not in this warehouse
        elif name == "dq_rejected_files":
            data[name] = run_query(con, name, max_rows=REJECTED_FILES_SHOWN)
        else:
            data[name] = run_query(con, name)
    return data


def _quarantine(rows: list[dict[str, Any]] | None) -> dict[str, Any] | None:
    """The quarantine rows grouped by store, with each store's total and the
    totals by reason over all stores."""
    if rows is None:
        return None
    stores: dict[str, dict[str, Any]] = {}
    by_reason: dict[str, int] = defaultdict(int)
    for r in rows:
        store = stores.setdefault(r["store_code"], {"store_code": r["store_code"], "rows": [], "total": 0})
        store["rows"].append(r)
        store["total"] += r["rows"] or 0
        by_reason[r["reason"]] += r["rows"] or 0
    return {
        "stores": list(stores.values()),
        "by_reason": sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0])),
        "total": sum(by_reason.values()),
    }


def build(data: dict[str, Any], site: Site, t: Translator) -> list[Page]:
    freshness = data["dq_freshness"]
    rejected = data["dq_rejected_files"]
    validations = data["dq_validations"]
    names = {s["store_code"]: s["store_name"] for s in site.stores}
    return [
        Page(
            path="data_quality.html",
            template="data_quality.html",
            context={
                "freshness": freshness,
                "late": [r for r in freshness or [] if r["is_late"]],
                "quarantine": _quarantine(data["dq_quarantine"]),
                "rejected": rejected,
                "rejected_in_all": rejected[0]["files_in_all"] if rejected else 0,
                "validations": validations,
                "validations_failed": [v for v in validations or [] if not v["success"]],
                "store_names": names,
                "relations": {name: f"{schema}.{table}" for name, (schema, table) in RELATIONS.items()},
                "data_docs_command": DATA_DOCS_COMMAND,
                "dbt_docs_command": DBT_DOCS_COMMAND,
            },
        )
    ]
