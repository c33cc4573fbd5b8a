"""The dashboards in a real browser: headless Chromium opens the pages the
pipeline rendered for the demo landing from file://, offline. No console
errors, no request leaves file:// (or data:), the SVG charts are laid out with
a size, a screenshot is not blank; the month, region and store filters and the
language switch work without a server.

Needs Debian's chromium and chromium-driver:
    apt-get install -y chromium chromium-driver
(skipped, saying so, when /usr/bin/chromium is absent).
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from browser import LOCAL_SCHEMES, WINDOW, chromium, needs_chromium, open_page, requests

pytestmark = needs_chromium


# ------------------------------------------------------------ a tiny PNG reader


def decode_png(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """(width, height, bytes per pixel, rows) of an 8-bit RGB/RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, []
    width = height = bpp = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and color in (2, 6) and interlace == 0, (depth, color, interlace)
            bpp = 3 if color == 2 else 4
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
    raw = zlib.decompress(b"".join(idat))
    stride = width * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(height):
        off = y * (stride + 1)
        filt, line = raw[off], bytearray(raw[off + 1:off + 1 + stride])
        if filt == 1:  # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif filt == 2:  # Up
            for i in range(stride):
                line[i] = (line[i] + prev[i]) & 255
        elif filt == 3:  # Average
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif filt == 4:  # Paeth
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b = prev[i]
                c = prev[i - bpp] if i >= bpp else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def pixel_stats(png: bytes) -> tuple[int, float]:
    """(distinct colors, share of non-white pixels) of a screenshot."""
    width, height, bpp, rows = decode_png(png)
    colors: set[bytes] = set()
    ink = 0
    for row in rows:
        for i in range(0, len(row), bpp):
            px = row[i:i + 3]
            colors.add(px)
            if px != b"\xff\xff\xff":
                ink += 1
    return len(colors), ink / (width * height)


# ------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def site(demo_build) -> dict:
    """The pages `aftersales run` rendered for the demo landing."""
    root = demo_build.root / "dashboards"
    store = sorted((root / "stores").glob("*.html"))[0]
    return {
        "root": root,
        "index": root / "index.html",
        "index_en": root / "en" / "index.html",
        "store": store,
        "call_list": root / "call_lists" / store.name,
        "data_quality": root / "data_quality.html",
    }


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    with chromium(tmp_path_factory.mktemp("chromium-profile")) as drv:
        yield drv


# ---------------------------------------------------------------------- tests


@pytest.mark.parametrize("page", ["index", "index_en", "store", "call_list", "data_quality"])
def test_page_loads_offline_without_errors(driver, site, page, tmp_path):
    from selenium.webdriver.common.by import By

    open_page(driver, site[page])

    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert severe == [], severe

    seen = requests(driver)
    uri = site[page].as_uri()
    assert (uri, uri) in seen, "the performance log did not record the page itself"
    # nothing goes to the network, whoever asked for it ...
    network = [u for u, _ in seen if not u.startswith(LOCAL_SCHEMES)]
    assert network == [], network
    # ... and the page itself loads only local files or inline data
    own = [u for u, doc in seen if doc == uri and not u.startswith(("file://", "data:"))]
    assert own == [], own

    # charts of the months not chosen are hidden: only the shown ones are laid out
    svgs = [svg for svg in driver.find_elements(By.CSS_SELECTOR, "svg.chart") if svg.is_displayed()]
    assert len(svgs) >= {"index": 3, "index_en": 3, "store": 6}.get(page, 0)
    for svg in svgs:
        size = svg.size
        assert size["width"] > 100 and size["height"] > 50, (svg.get_attribute("class"), size)
    # every chart drew something: lines or bars
    marks = driver.execute_script(
        "return Array.from(document.querySelectorAll('svg.chart')).filter(s => s.getBoundingClientRect().width > 0)"
        ".map(s => s.querySelectorAll('polyline, rect, circle').length)"
    )
    assert all(n > 0 for n in marks), marks

    # laptop-readable: nothing wider than the window (wide tables scroll in their box)
    overflow = driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"page is {overflow}px wider than a {WINDOW[0]}px window"

    shot = tmp_path / f"{page}.png"
    assert driver.save_screenshot(str(shot))
    colors, ink = pixel_stats(shot.read_bytes())
    assert colors > 20, f"screenshot looks blank: {colors} distinct colors"
    assert ink > 0.02, f"screenshot looks blank: {ink:.1%} non-white pixels"


def test_chart_renders_pixels(driver, site, tmp_path):
    """The churn-trend chart of a store page, screenshotted on its own."""
    from selenium.webdriver.common.by import By

    open_page(driver, site["store"])
    chart = driver.find_element(By.CSS_SELECTOR, "svg.churn-trend")
    driver.execute_script("arguments[0].scrollIntoView()", chart)
    png = chart.screenshot_as_png
    (tmp_path / "churn-trend.png").write_bytes(png)
    colors, ink = pixel_stats(png)
    assert colors > 10 and ink > 0.02, (colors, ink)


def test_store_page_prints(driver, site):
    """The store page prints (A4 landscape per its CSS) to a PDF of a few pages."""
    import base64

    from selenium.webdriver.common.print_page_options import PrintOptions

    open_page(driver, site["store"])
    options = PrintOptions()
    options.orientation = "landscape"
    pdf = base64.b64decode(driver.print_page(options))
    assert pdf.startswith(b"%PDF")
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    assert 1 <= pages <= 12, pages


# ------------------------------------------------------------------ filters


def visible_months(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('[data-month-panel]'))"
        ".filter(e => e.offsetParent !== null).map(e => e.dataset.monthPanel)"
        ".filter((m, i, a) => a.indexOf(m) === i)"
    )


def test_month_filter_shows_the_chosen_month_and_carries_it_to_the_next_page(driver, site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    open_page(driver, site["index"])
    months = [o.get_attribute("value") for o in driver.find_elements(By.CSS_SELECTOR, "#month-filter option")]
    assert len(months) >= 12 and months == sorted(months, reverse=True)
    assert visible_months(driver) == [months[0]]  # the latest month when the page opens

    Select(driver.find_element(By.ID, "month-filter")).select_by_value(months[6])
    assert visible_months(driver) == [months[6]]
    assert driver.execute_script("return location.hash") == f"#month={months[6]}"
    # the league table of that month is the one on screen
    shown = driver.execute_script(
        "return Array.from(document.querySelectorAll('table.league')).filter(e => e.offsetParent !== null)"
        ".map(e => e.dataset.month)"
    )
    assert shown == [months[6]]

    # the month travels with a link to a store page and with the language switch
    link = driver.find_element(By.CSS_SELECTOR, "table.league[data-month='%s'] a" % months[6])
    assert link.get_attribute("href").endswith(f"#month={months[6]}")
    link.click()
    assert "/stores/" in driver.current_url
    assert driver.find_element(By.ID, "month-filter").get_attribute("value") == months[6]
    panels = visible_months(driver)
    assert panels in ([months[6]], []), panels
    driver.find_element(By.CSS_SELECTOR, "a.lang").click()
    assert "/en/stores/" in driver.current_url and driver.current_url.endswith(f"#month={months[6]}")
    assert driver.find_element(By.ID, "month-filter").get_attribute("value") == months[6]


def test_store_filter_opens_the_store_page_and_region_filter_hides_other_regions(driver, site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    open_page(driver, site["index"])
    regions = [o.get_attribute("value") for o in driver.find_elements(By.CSS_SELECTOR, "#region-filter option")]
    if len(regions) > 2:  # "all" and at least two regions
        Select(driver.find_element(By.ID, "region-filter")).select_by_value(regions[1])
        shown = driver.execute_script(
            "return Array.from(document.querySelectorAll('table.league tr[data-region-row]'))"
            ".filter(e => e.offsetParent !== null).map(e => e.dataset.regionRow)"
        )
        assert shown and set(shown) == {regions[1]}
    store = site["store"].stem
    Select(driver.find_element(By.ID, "store-filter")).select_by_value(store)
    assert driver.current_url.split("#")[0].endswith(f"/stores/{store}.html")
    assert Select(driver.find_element(By.ID, "store-filter")).first_selected_option.get_attribute("value") == store


def test_every_page_of_the_site_loads_offline_without_errors(driver, site):
    """Every page the run wrote, in both languages: no console error and no
    request that leaves file:// (the per-kind test above looks closer)."""
    pages = sorted(site["root"].rglob("*.html"))
    assert len(pages) >= 4 * 2 + 2
    for page in pages:
        open_page(driver, page)
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert severe == [], (page, severe)
        network = [u for u, _ in requests(driver) if not u.startswith(LOCAL_SCHEMES)]
        assert network == [], (page, network)
        # the filter script ran: the month select shows a month the page has
        assert driver.execute_script(
            "var s = document.getElementById('month-filter'); return s === null || s.value !== ''"
        ), page
