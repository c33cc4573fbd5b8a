"""The Great Expectations Data Docs in a real browser, offline.

The runner writes a real Data Docs site (GX validates a small warehouse, one
suite failing), then headless Chromium opens its index and a validation page
from file://. Every request stays on file:// and the vendored styles, fonts
and scripts took effect: Bootstrap lays the navbar out as flex, Font Awesome's
font is loaded and draws the icons, bootstrap-table's script wrapped the
tables, the logo image loaded.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import duckdb
import pytest
from browser import LOCAL_SCHEMES, chromium, needs_chromium, open_page, requests
from test_expectations import build_clean_warehouse

from expectations.offline_docs import ASSETS, CDN_COPIES, VENDOR_DIR, make_offline
from expectations.runner import validate_all

pytestmark = needs_chromium

TABLES = ["marts.dim_stores", "marts.kpi_store_month"]


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("data_docs")
    warehouse = work / "warehouse.duckdb"
    build_clean_warehouse(warehouse)
    con = duckdb.connect(str(warehouse))
    try:  # a failing check, so the validation page shows a failure too
        con.execute("update marts.kpi_store_month set churned = on_file + 1 where store_code = 'S2'")
    finally:
        con.close()
    outcomes = validate_all(warehouse, TABLES, work / "docs")
    assert [o.success for o in outcomes] == [True, False]
    return work / "docs"


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as drv:
        yield drv


def validation_page(site: Path, table: str) -> Path:
    pages = sorted((site / "validations").glob(f"{table.replace('.', '/')}/**/*.html"))
    assert len(pages) == 1, pages
    return pages[0]


def test_pages_name_no_cdn(site):
    for page in [site / "index.html", *site.rglob("validations/**/*.html")]:
        html = page.read_text(encoding="utf-8")
        assert not [url for url in CDN_COPIES if url in html], page
        assert "amazonaws.com" not in html, page
    assert "amazonaws.com" not in (site / "static" / "styles" / "data_docs_default_styles.css").read_text()


@pytest.mark.parametrize("page", ["index", "validation"])
def test_data_docs_render_styled_offline(driver, site, page):
    path = site / "index.html" if page == "index" else validation_page(site, "marts.kpi_store_month")
    open_page(driver, path)
    driver.execute_async_script("document.fonts.ready.then(arguments[arguments.length - 1])")

    seen = requests(driver)
    assert (path.as_uri(), path.as_uri()) in seen, "the performance log did not record the page itself"
    network = [url for url, _ in seen if not url.startswith(LOCAL_SCHEMES)]
    assert network == [], network
    vendored = [url for url, _ in seen if f"/{VENDOR_DIR.as_posix()}/" in url]
    assert len(vendored) >= 10, vendored  # the stylesheets and scripts came from the site itself

    style = driver.execute_script(
        """
        const icon = document.querySelector('i.fas');
        const logo = document.querySelector('img[src$="logo-long.png"]');
        return {
          navbar: getComputedStyle(document.querySelector('nav.navbar')).display,
          icon_font: getComputedStyle(icon).fontFamily,
          icon_glyph: getComputedStyle(icon, '::before').content,
          fa_loaded: document.fonts.check('900 16px "Font Awesome 6 Free"'),
          wrapped_tables: document.querySelectorAll('div.bootstrap-table').length,
          logo_width: logo ? logo.naturalWidth : -1,
          jquery: typeof window.jQuery,
          vega: typeof window.vegaEmbed,
        };
        """
    )
    assert style["navbar"] == "flex", style  # Bootstrap's .navbar; a <nav> is block without it
    assert "Font Awesome 6 Free" in style["icon_font"], style
    assert style["icon_glyph"] not in ("none", "normal", ""), style
    assert style["fa_loaded"] is True, style
    assert style["wrapped_tables"] > 0, style  # bootstrap-table ran on data-toggle="table"
    assert style["logo_width"] > 0, style
    assert style["jquery"] == "function" and style["vega"] == "function", style
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe


def test_make_offline_rewrites_only_new_pages_and_reports_what_it_cannot(site, tmp_path):
    copy = tmp_path / "docs"
    shutil.copytree(site, copy)
    old = copy / "old.html"
    old.write_text('<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>', encoding="utf-8")
    new = copy / "new.html"
    new.write_text(
        '<script src="https://cdn.jsdelivr.net/npm/vega@5"></script>'
        '<link rel="stylesheet" href="https://example.invalid/x.css"><a href="https://example.invalid/">docs</a>',
        encoding="utf-8",
    )
    since = new.stat().st_mtime_ns


    os.utime(old, ns=(since - 10**10, since - 10**10))

    left = make_offline(copy, written_since_ns=since)

    assert left == ["new.html: https://example.invalid/x.css"]  # the anchor is a link, not a load
    assert 'src="static/vendor/vega@5.33.1/build/vega.min.js"' in new.read_text(encoding="utf-8")
    assert "https://cdn.jsdelivr.net" in old.read_text(encoding="utf-8")  # an older page is left alone


def test_vendored_copies_are_the_bytes_gx_pins():
    """GX's template pins two of the CDN files by subresource integrity
    (sha384); the vendored copies have exactly those hashes."""
    import base64
    import hashlib

    import great_expectations

    template = Path(great_expectations.__file__).parent / "render" / "view" / "templates" / "js_script_imports.j2"
    pinned = re.findall(r'src="(https://[^"]+)" integrity="sha384-([^"]+)"', template.read_text(encoding="utf-8"))
    assert len(pinned) >= 2, pinned
    for url, digest in pinned:
        copy = ASSETS / CDN_COPIES[url]
        assert base64.b64encode(hashlib.sha384(copy.read_bytes()).digest()).decode() == digest, url
