"""Display formats shared by the pages and the charts.

Money is CNY with two places (``¥12,345.67``), rates are percentages with one
place (``12.3%``), a NULL (or NaN) value is an em dash (``—``). Every rate on
the pages is shown next to its numerator and denominator (``fraction``), never
alone (SPEC section 7).
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from typing import Any

NULL = "—"

Number = int | float | Decimal


def is_null(value: Any) -> bool:
    """None, or a NaN float/Decimal (the pages show both as '—')."""
    if value is None:
        return True
    kind = type(value)
    if kind is int or kind is str:
        return False
    if kind is float:
        return math.isnan(value)
    if kind is Decimal:
        return value.is_nan()
    return False


def money(value: Any) -> str:
    """¥12,345.67; negative amounts as -¥12.00."""
    if is_null(value):
        return NULL
    if type(value) is not Decimal:
        value = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    # Decimal formatting rounds half-even; marts hold cents already.
    text = f"{value:,.2f}"
    if text.startswith("-"):
        return "¥0.00" if text == "-0.00" else f"-¥{text[1:]}"
    return f"¥{text}"


def rate(value: Any, places: int = 1) -> str:
    """A rate in [0, 1] as a percentage: 0.1234 -> 12.3%."""
    if is_null(value):
        return NULL
    return f"{float(value) * 100:.{places}f}%"


def count(value: Any) -> str:
    """A count with thousands separators: 12345 -> 12,345."""
    if is_null(value):
        return NULL
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def ratio(value: Any, places: int = 2) -> str:
    """A plain ratio such as the labor-parts ratio (料工比): 1.2345 -> 1.23."""
    if is_null(value):
        return NULL
    return f"{float(value):,.{places}f}"


def points(value: Any) -> str:
    """A change of a rate in percentage points: 0.012 -> +1.2 pp."""
    if is_null(value):
        return NULL
    pp = float(value) * 100
    if abs(pp) < 0.05:
        return "±0.0 pp"
    return f"{pp:+.1f} pp"


def month(value: Any) -> str:
    """A month_end date as its month: 2024-03-31 -> 2024-03."""
    if is_null(value):
        return NULL
    if isinstance(value, (date, datetime)):
        return f"{value.year:04d}-{value.month:02d}"
    return str(value)[:7]


def day(value: Any) -> str:
    if is_null(value):
        return NULL
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def fraction(numerator: Any, denominator: Any, kind: str = "count", den_kind: str | None = None) -> str:
    """'3/12' (counts) or '¥1.00/¥4.00' (money): the tooltip of a rate.

    `den_kind` formats the denominator differently (per-ticket value:
    '¥1,234.00/5' is revenue over paid visits).
    """
    num_fmt = money if kind == "money" else count
    den_fmt = num_fmt if den_kind is None else (money if den_kind == "money" else count)
    return f"{num_fmt(numerator)}/{den_fmt(denominator)}"


def value(value: Any, kind: str) -> str:
    """Format by kind name: money, rate, count, ratio, points."""
    return FORMATTERS[kind](value)


FORMATTERS = {
    "money": money,
    "rate": rate,
    "count": count,
    "ratio": ratio,
    "points": points,
    "month": month,
    "day": day,
}
