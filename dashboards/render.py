"""Render the static dashboards from the marts of a DuckDB warehouse.

    python -m dashboards.render --warehouse var/warehouse.duckdb --out var/dashboards

Output (self-contained: no server and no network to view or print it):

    <out>/index.html                 group overview (集团总览)
    <out>/stores/<store>.html        one page per store (门店)
    <out>/call_lists/<store>.html    each store's call list, contacts masked (回访名单)
    <out>/campaigns.html             every store's campaigns, kinds ranked (招揽活动效果)
    <out>/campaigns/<store>.html     a store's campaigns: plan, effect, return curves
    <out>/data_quality.html          freshness, quarantine, validations (数据质量)
    <out>/en/...                     the same pages in English
    <out>/assets/                    the stylesheet and the filter script
    <out>/queries/*.sql              the SQL behind every section (linked from it)

Every figure comes from a query in ``dashboards/queries`` that reads only the
published warehouse; the queries aggregate in SQL so what Python holds is
bounded by stores x months x categories. The warehouse is opened read-only
and closed before the pages are written. Each page module in
``dashboards/pages`` collects its data once and builds its pages per language.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from multiprocessing import get_all_start_methods, get_context
from pathlib import Path

import duckdb

from dashboards.i18n import LANGUAGE_DIRS, LANGUAGES, Translator
from dashboards.pages import call_list, campaigns, data_quality, group, store
from dashboards.panel_cache import PanelCache
from dashboards.site import STATIC_DIR, Site, make_environment, page_context, write_atomically
from dashboards.sql import QUERIES_DIR, DashboardError, run_query

PROJECT_DIR = Path(__file__).resolve().parent.parent

# The marts every page needs; the data-quality tables are optional (an older
# warehouse without them renders that page with a note).
REQUIRED_TABLES = (
    "dim_stores",
    "kpi_store_month",
    "kpi_scope_month",
    "kpi_churn_breakdown_month",
    "kpi_vehicle_age_churn_month",
    "kpi_survey_reasons_month",
    "kpi_survey_destinations_month",
    "call_list",
    "source_freshness",
)

PAGE_MODULES = (group, store, call_list, campaigns, data_quality)

__all__ = ["DashboardError", "RenderResult", "render_dashboards"]


@dataclass(frozen=True)
class RenderResult:
    index_page: Path
    store_pages: dict[str, Path]
    call_list_pages: dict[str, Path] = field(default_factory=dict)
    campaign_pages: dict[str, Path] = field(default_factory=dict)  # per store; the group's is campaigns.html
    data_quality_page: Path | None = None
    pages: list[Path] = field(default_factory=list)  # every HTML file, both languages
    # The month panels of the store pages and the group overview (every language) rendered, and
    # reused from the last render.
    panels_rendered: int = 0
    panels_reused: int = 0


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


def _href(target: Path | None, out_dir: Path) -> str | None:
    """A link from the build folder to a docs site beside it, when it exists."""
    if target is None or not target.exists():
        return None
    return Path(os.path.relpath(target, out_dir)).as_posix()


def render_dashboards(
    warehouse: Path,
    out_dir: Path,
    *,
    data_docs_index: Path | None = None,
    dbt_docs_index: Path | None = None,
    panel_cache_dir: Path | None = None,
) -> RenderResult:
    """Query the marts of `warehouse` (read-only) and write the site to `out_dir`.

    `data_docs_index` and `dbt_docs_index` are the Great Expectations Data Docs
    and the dbt docs site the data-quality page links to (when they exist);
    `panel_cache_dir` keeps the store pages' month panels for the next
    render (panel_cache.py; none: every panel is rendered)."""
    warehouse = Path(warehouse).resolve()
    out_dir = Path(out_dir).resolve()

    con = _connect(warehouse)
    try:
        _check_marts(con, warehouse)
        site = Site(
            stores=run_query(con, "site_stores"),
            months=run_query(con, "site_months"),
            group_code=(run_query(con, "site_group") or [{"scope_code": None}])[0]["scope_code"],
            warehouse_name=warehouse.name,
            generated_at=datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z").strip(),
            data_docs_href=_href(data_docs_index, out_dir),
            dbt_docs_href=_href(dbt_docs_index, out_dir),
            panels=PanelCache(panel_cache_dir),
        )
        collected = [(module, module.collect(con, site)) for module in PAGE_MODULES]
    finally:
        con.close()

    written = _write_languages(_Rendering(collected, site, out_dir))
    site.panels.save()

    # The stylesheet and the filter script, and the SQL behind each section.
    for folder, files in (("assets", sorted(STATIC_DIR.iterdir())), ("queries", sorted(QUERIES_DIR.glob("*.sql")))):
        (out_dir / folder).mkdir(parents=True, exist_ok=True)
        for source in files:
            shutil.copyfile(source, out_dir / folder / source.name)

    _remove_stale_pages(out_dir, set(written))
    zh = out_dir / LANGUAGE_DIRS["zh"]
    return RenderResult(
        index_page=zh / "index.html",
        store_pages={code: zh / site.store_page(code) for code in site.store_files},
        call_list_pages={code: zh / site.call_list_page(code) for code in site.store_files},
        campaign_pages={code: zh / site.campaigns_page(code) for code in site.store_files},
        data_quality_page=zh / "data_quality.html",
        pages=written,
        panels_rendered=len(site.panels.added),
        panels_reused=site.panels.panels_used() * len(LANGUAGES) - len(site.panels.added),
    )


@dataclass(frozen=True)
class _Rendering:
    """What every language's pages are built from: the collected data, once."""

    collected: list
    site: Site
    out_dir: Path


# The rendering a forked worker builds its language from: set before the
# worker starts, so the collected data reach it by the fork, not pickled.
_current: _Rendering | None = None


def _write_languages(rendering: _Rendering) -> list[Path]:
    """Every language's pages, written; each language after the first in a
    forked process of its own where the machine has a core for it: building
    and rendering the pages is pure Python (Jinja), about two thirds of the
    step, and the languages share nothing but the collected data."""
    global _current
    # Linux only: there a fork is cheap and safe for pure Python work.
    parallel = (len(LANGUAGES) > 1 and sys.platform.startswith("linux") and len(os.sched_getaffinity(0)) > 1
                and "fork" in get_all_start_methods())
    if not parallel:
        return [path for language in LANGUAGES for path in _write_language(rendering, language)]
    _current = rendering
    try:
        with ProcessPoolExecutor(max_workers=len(LANGUAGES) - 1, mp_context=get_context("fork")) as pool:
            others = [pool.submit(_write_current_language, language) for language in LANGUAGES[1:]]
            written = _write_language(rendering, LANGUAGES[0])
            for future in others:
                pages, panels = future.result()
                written += pages
                rendering.site.panels.merge(panels)
    finally:
        _current = None
    return written


def _write_current_language(language: str) -> tuple[list[Path], list]:
    """In a forked worker: the pages of `language` from the rendering it
    inherited, and the month panels it rendered (for the parent to keep)."""
    assert _current is not None, "a worker forked before the rendering was set"
    written = _write_language(_current, language)
    return written, [panel for panel in _current.site.panels.added if panel[2] == language]


def _write_language(rendering: _Rendering, language: str) -> list[Path]:
    env = make_environment()
    t = Translator(language)
    site = rendering.site
    lang_dir = rendering.out_dir / LANGUAGE_DIRS[language]
    written = []
    for module, data in rendering.collected:
        for page in module.build(data, site, t):
            html = env.get_template(page.template).render(**page_context(site, page, language, t), **page.context)
            path = lang_dir / page.path
            write_atomically(path, html)
            written.append(path)
    return written


def _remove_stale_pages(out_dir: Path, current: set[Path]) -> None:
    """Pages of stores that are gone from the marts would be stale: remove them."""
    for folder in {p.parent for p in current}:
        for old in folder.glob("*.html"):
            if old not in current:
                old.unlink()


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
    parser.add_argument("--data-docs", type=Path, default=PROJECT_DIR / "var" / "data_docs" / "index.html",
                        help="Great Expectations Data Docs index the data-quality page links to")
    parser.add_argument("--dbt-docs", type=Path, default=PROJECT_DIR / "var" / "dbt_docs" / "index.html",
                        help="dbt docs site the data-quality page links to")
    parser.add_argument("--panel-cache", type=Path, default=None,
                        help="folder that keeps the store pages' month panels for the next render "
                             "(default: none, every panel is rendered)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    try:
        result = render_dashboards(args.warehouse, args.out, data_docs_index=args.data_docs,
                                   dbt_docs_index=args.dbt_docs, panel_cache_dir=args.panel_cache)
    except DashboardError as exc:
        print(f"dashboards: {exc}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    print(f"dashboards: wrote {len(result.pages)} pages in {elapsed:.1f}s; group page {result.index_page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

