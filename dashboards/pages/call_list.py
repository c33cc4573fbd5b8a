"""(being built) The call list pages."""

from __future__ import annotations

from typing import Any

from dashboards.i18n import Translator
from dashboards.site import Page, Site

QUERIES: tuple[str, ...] = ()


def collect(con, site: Site) -> dict[str, Any]:
    return {}


def build(data: dict[str, Any], site: Site, t: Translator) -> list[Page]:
    return []
