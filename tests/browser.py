"""Headless Debian Chromium for the browser tests: a driver that records
every network request, and what those requests were.

Needs Debian's chromium and chromium-driver:
    apt-get install -y chromium chromium-driver
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

needs_chromium = pytest.mark.skipif(
    not CHROMIUM.exists() or not CHROMEDRIVER.exists(),
    reason="headless browser tests need Debian's chromium and chromedriver "
    "(/usr/bin/chromium, /usr/bin/chromedriver): apt-get install -y chromium chromium-driver",
)

WINDOW = (1366, 900)  # a laptop screen

# Schemes that never reach the network. Chromium's own UI (the initial new-tab
# page) loads chrome:// resources that may show up in the log as well.
LOCAL_SCHEMES = ("file:", "data:", "about:", "blob:", "chrome:", "chrome-untrusted:", "devtools:")


@contextmanager
def chromium(profile_dir: Path):
    """A headless Chromium whose console and performance (CDP Network) logs
    are kept."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", f"--window-size={WINDOW[0]},{WINDOW[1]}",
        f"--user-data-dir={profile_dir}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    # An explicit driver path: Selenium Manager (which would go online) is not used.
    drv = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    drv.set_page_load_timeout(30)
    try:
        yield drv
    finally:
        drv.quit()


def open_page(driver, page: Path) -> None:
    driver.get_log("browser")  # drop entries of earlier pages
    driver.get_log("performance")
    driver.get(page.as_uri())
    assert driver.execute_script("return document.readyState") == "complete"


def requests(driver) -> list[tuple[str, str]]:
    """(url, documentURL) of every Network.requestWillBeSent in the log."""
    seen = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message.get("method") == "Network.requestWillBeSent":
            params = message["params"]
            seen.append((params["request"]["url"], params.get("documentURL", "")))
    return seen
