"""Month axes for the trend charts: every calendar month from the first to
the last, so a month missing from the marts shows as a gap rather than
silently joining its neighbours; and the line of a rate over them."""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any

from dashboards import charts, formatting


def month_axis(month_ends) -> list:
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
    """Rows of one scope laid on a month axis."""

    def __init__(self, rows: list[dict[str, Any]], axis: list) -> None:
        self.by_month = {r["month_end"]: r for r in rows}
        self.axis = axis

    def values(self, key: str) -> list:
        return [self.by_month[m][key] if m in self.by_month else None for m in self.axis]

    def tips(self, text) -> list[str | None]:
        return [text(self.by_month[m]) if m in self.by_month else None for m in self.axis]


def rate_series(aligned: Aligned, label: str, key: str, numerator: str, denominator: str, *,
                color: str, kind: str = "count", dash: str | None = None):
    """A rate's line over the months, each point's tooltip giving the rate with
    its numerator and denominator: '2024-03 Churn rate: 2.5% (11/432)'."""
    return charts.Series(
        label, aligned.values(key), color=color, dash=dash,
        tooltips=aligned.tips(lambda r: f"{formatting.month(r['month_end'])} {label}: {formatting.rate(r[key])} "
                              f"({formatting.fraction(r[numerator], r[denominator], kind)})"),
    )
