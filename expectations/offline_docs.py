"""Data Docs that render styled with no network.

Great Expectations' pages load Bootstrap, jQuery, Font Awesome, bootstrap-table,
the datepicker and Vega from public CDNs and its logo from S3; most dealer
networks reach none of them. The same files, at the versions the pages name,
are vendored in `data_docs_assets/` (taken from the npm registry, see its
README). After GX writes the site, `make_offline` copies them into the site's
`static/vendor/` and points every page at those copies, so the site is a
folder that works anywhere, offline, copied or zipped.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
from pathlib import Path

logger = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parent / "data_docs_assets"
VENDOR_DIR = Path("static") / "vendor"  # under the site root

# Address GX 1.24 writes -> vendored copy, relative to ASSETS. A GX upgrade that
# changes one shows up as a warning here and a failing browser test.
CDN_COPIES: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap@4.3.1/dist/css/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap@4.3.1/dist/js/bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery@3.7.1/dist/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js@1.12.9/dist/umd/popper.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": "bootstrap-table@1.19.1/dist/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": "bootstrap-table@1.19.1/dist/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": (
        "bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js"
    ),
    # GX names 1.19.0 for the filter-control styles; 1.19.1's are the same rules.
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": (
        "bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": (
        "bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        "bootstrap-datepicker@1.9.0/dist/css/bootstrap-datepicker.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        "bootstrap-datepicker@1.9.0/dist/js/bootstrap-datepicker.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "@fortawesome/fontawesome-free@6.6.0/css/all.min.css"
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (
        "@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.min.css"
    ),
    # jsDelivr serves a package's build for "vega@5"; these are the newest 5 / 5 / 6.
    "https://cdn.jsdelivr.net/npm/vega@5": "vega@5.33.1/build/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite@5.23.0/build/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed@6.29.0/build/vega-embed.min.js",
}

# GX's logo comes from S3 (with a cache-busting query); GX ships the same image
# in the site's static/images.
_S3_LOGO = re.compile(
    r"https://great-expectations-web-assets\.s3\.[a-z0-9-]+\.amazonaws\.com/(?:logo-long|full_logo_dark)\.png(?:\?[^\"')\s]*)?"
)
_LOGO = Path("static") / "images" / "logo-long.png"
# What a browser fetches by itself: script/img src, link href (stylesheets,
# icons), CSS url(). Anchors are links a reader may follow, not loads.
_EXTERNAL_LOADS = re.compile(
    r"<(?:script|img)\b[^>]*\bsrc=\"(https?://[^\"]+)\"|<link\b[^>]*\bhref=\"(https?://[^\"]+)\"|url\(['\"]?(https?://[^'\")]+)"
)


# A CDN tag's subresource integrity asks for a CORS fetch, which file:// pages
# cannot make; the vendored copies are the same bytes (a test checks GX's
# hashes against them), so the attributes go with the CDN address.
_CORS_ATTRIBUTES = re.compile(r'\s+(?:integrity|crossorigin)="[^"]*"')
_STATIC_REFERENCE = re.compile(r'\b(src|href)="(?:\.\./)*static/')
_TAG = re.compile(r"<(?:script|link)\b[^>]*>")


def _drop_cors(tag: re.Match) -> str:
    text = tag.group(0)
    return _CORS_ATTRIBUTES.sub("", text) if "static/vendor/" in text else text


def _relative(target: Path, from_dir: Path) -> str:
    return Path(os.path.relpath(target, from_dir)).as_posix()


def _rewrite(path: Path, site: Path) -> list[str]:
    """Point one page or stylesheet at the local copies; return the external
    loads left in it."""
    text = path.read_text(encoding="utf-8")
    here = path.parent
    static = _relative(site / "static", here)
    new = text
    for url, copy in CDN_COPIES.items():
        if url in new:
            local = _relative(site / VENDOR_DIR / copy, here)
            new = new.replace(f'"{url}"', f'"{local}"')
    new = _TAG.sub(_drop_cors, new)
    # GX writes the favicon of a validation page one level too shallow; every
    # reference to the site's static folder is made relative to this page.
    new = _STATIC_REFERENCE.sub(lambda m: f'{m.group(1)}="{static}/', new)
    new = _S3_LOGO.sub(_relative(site / _LOGO, here), new)
    if new != text:
        path.write_text(new, encoding="utf-8")
    return [next(g for g in m.groups() if g) for m in _EXTERNAL_LOADS.finditer(new)]


def make_offline(site: Path, *, written_since_ns: int | None = None) -> list[str]:
    """Vendor the assets into the Data Docs site at `site` and rewrite its
    pages to load them. Only pages written at or after `written_since_ns` are
    rewritten (the pages of earlier runs were rewritten then), unless the site
    has no vendored copies yet. Returns the external loads left anywhere it
    looked, each as 'file: url', and logs them as warnings."""
    site = Path(site)
    vendor = site / VENDOR_DIR
    first_time = not vendor.is_dir()
    shutil.copytree(ASSETS, vendor, dirs_exist_ok=True, ignore=shutil.ignore_patterns("README.md"))
    left: list[str] = []
    for path in sorted(site.rglob("*")):
        if path.suffix not in (".html", ".css") or path.is_relative_to(vendor):
            continue
        if not first_time and written_since_ns is not None and path.stat().st_mtime_ns < written_since_ns:
            continue
        left += [f"{path.relative_to(site)}: {url}" for url in _rewrite(path, site)]
    for item in left:
        logger.warning("Data Docs still load from the network: %s", item)
    return left
