"""What every page shares: the stores, the months, where each page lives, the
Jinja environment and the atomic writer.

A page is a template, its data and a path inside a language folder. The site
is written once per language (``i18n.LANGUAGE_DIRS``): Chinese at the build
folder's root, English under ``en/``; CSS, JavaScript and the SQL files sit in
``assets/`` and ``queries/`` beside them and are shared by both.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from dashboards import formatting
from dashboards.i18n import HTML_LANG, LANGUAGE_DIRS, LANGUAGES, Translator

if TYPE_CHECKING:
    from dashboards.panel_cache import PanelCache

PACKAGE_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"


@dataclass(frozen=True)
class Page:
    """One HTML file: `path` is relative to a language folder ("stores/S001.html")."""

    path: str
    template: str
    context: dict[str, Any]
    # the store the page belongs to (the header's store filter selects it)
    store_code: str | None = None


@dataclass
class Site:
    """Shared by every page: the stores, the months with data and the links."""

    stores: list[dict[str, Any]]  # rows of queries/site_stores.sql
    months: list[dict[str, Any]]  # rows of queries/site_months.sql, oldest first
    group_code: str | None
    warehouse_name: str
    generated_at: str
    data_docs_href: str | None = None  # relative to the build folder
    dbt_docs_href: str | None = None
    store_files: dict[str, str] = field(default_factory=dict)
    # The store pages' month panels kept between renders (panel_cache.py);
    # render_dashboards sets it, to a cache of this render only by default.
    panels: PanelCache | None = None

    def __post_init__(self) -> None:
        self.store_files = {s["store_code"]: store_file_name(s["store_code"]) for s in self.stores}

    @property
    def latest_month(self) -> date | None:
        return self.months[-1]["month_end"] if self.months else None

    def store_page(self, store_code: str) -> str:
        return f"stores/{self.store_files[store_code]}"

    def call_list_page(self, store_code: str) -> str:
        return f"call_lists/{self.store_files[store_code]}"

    def campaigns_page(self, store_code: str) -> str:
        return f"campaigns/{self.store_files[store_code]}"

    campaigns_group_page = "campaigns.html"

    def store_page_like(self, page_path: str, store_code: str) -> str:
        """The store filter's target: the chosen store's page of the kind
        shown (its call list from a call list, its campaigns from campaigns)."""
        if page_path.startswith("call_lists/"):
            return self.call_list_page(store_code)
        if page_path.startswith("campaigns"):
            return self.campaigns_page(store_code)
        return self.store_page(store_code)


def store_file_name(store_code: str) -> str:
    """A file name for a store's pages: the code itself when it is filename-safe."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", store_code) and ".." not in store_code:
        return f"{store_code}.html"
    safe = "".join(ch if ch.isalnum() and ch.isascii() else "_" for ch in store_code)
    digest = hashlib.sha1(store_code.encode("utf-8")).hexdigest()[:10]
    return f"{safe}-{digest}.html"


def month_key(value: Any) -> str:
    """The month filter's value of a month_end: '2024-03'."""
    return formatting.month(value)


# ------------------------------------------------------------------ table cells


def rate_td(col: str, value: Any, num: Any, den: Any, kind: str = "count", den_kind: str | None = None,
            extra_class: str = "") -> Markup:
    """<td> with a rate and its numerator/denominator as the title (a Python
    function, not a Jinja macro: the tables have thousands of cells)."""
    cls = ("num null" if formatting.is_null(value) else "num") + (f" {extra_class}" if extra_class else "")
    title = ""
    if not (formatting.is_null(num) and formatting.is_null(den)):
        title = f' title="{escape(formatting.fraction(num, den, kind, den_kind))}"'
    return Markup(f'<td class="{cls}" data-col="{escape(col)}"{title}>{formatting.rate(value)}</td>')


def value_td(col: str, value: Any, kind: str = "count", title: str | None = None, extra_class: str = "") -> Markup:
    """<td> with a count, amount, ratio or change, formatted by `kind`."""
    cls = ("num null" if formatting.is_null(value) else "num") + (f" {extra_class}" if extra_class else "")
    title_attr = f' title="{escape(title)}"' if title else ""
    return Markup(
        f'<td class="{cls}" data-col="{escape(col)}"{title_attr}>{escape(formatting.value(value, kind))}</td>'
    )


# ------------------------------------------------------------------- rendering


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
    env.globals.update(
        fmt=formatting.value,
        fraction=formatting.fraction,
        rate_td=rate_td,
        value_td=value_td,
        month_key=month_key,
        NULL=formatting.NULL,
    )
    return env


def relative_root(path: str) -> str:
    """'../' for each folder of `path`: the way back to its language folder."""
    return "../" * path.count("/")


def build_root(page_path: str, language: str) -> str:
    """From a page of `language` back to the build folder (assets, queries, docs)."""
    return relative_root(page_path) + relative_root(LANGUAGE_DIRS[language])


def latest_month_key(site: Site) -> str:
    """The month the month filter shows when a page opens."""
    return month_key(site.latest_month) if site.latest_month else ""


def page_context(site: Site, page: Page, language: str, t: Translator) -> dict[str, Any]:
    """The variables base.html needs, for `page` in `language`."""
    root = relative_root(page.path)
    build_root_ = build_root(page.path, language)
    other = [lang for lang in LANGUAGES if lang != language][0]
    return {
        "t": t,
        "lang": language,
        "html_lang": HTML_LANG[language],
        "root": root,
        "build_root": build_root_,
        "other_lang": other,
        "other_lang_href": build_root_ + LANGUAGE_DIRS[other] + page.path,
        "site": site,
        "page_path": page.path,
        "page_store": page.store_code,
        "latest_month_key": latest_month_key(site),
    }


def write_atomically(path: Path, text: str) -> None:
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
