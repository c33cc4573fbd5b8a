"""Server-side SVG charts: line charts, (stacked) bar charts, intervals and
calibration (predicted against observed).

No JavaScript and no external resources: each function returns one inline
``<svg>`` element (as ``markupsafe.Markup``) with axes, tick labels, a y-axis
label, a legend and a native tooltip (``<title>``) on every point or bar.
The x axis is categorical (one slot per month), so line and bar charts of the
same months line up. ``None`` values leave a gap instead of a zero.

The SVG carries no ``xmlns`` attribute: it is embedded in HTML5, where the
parser puts it in the SVG namespace, and the pages then contain no URL at all.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from dashboards import formatting

# Tableau-10-like palette; beyond ten series the dash pattern changes too.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf",
)
DASHES = ("", "6 3", "2 3", "9 3 2 3")

STATUS_COLORS = {"active": "#2e7d32", "at_risk": "#f9a825", "churned": "#c62828"}

FONT_SIZE = 12
# Default drawing width: the page's content width, so text renders at its nominal size.
WIDTH = 1180
HALF_WIDTH = 580
AXIS_COLOR = "#555"
GRID_COLOR = "#e3e3e3"
TEXT_COLOR = "#333"
# Draw a marker (with its tooltip) on every point only up to this many points.
MAX_MARKERS = 800


@dataclass
class Series:
    name: str
    values: Sequence[float | int | None]
    color: str | None = None
    dash: str | None = None
    # One tooltip per value (falls back to "<series> <category>: <value>").
    tooltips: Sequence[str | None] | None = None


def series_style(index: int) -> tuple[str, str]:
    """(color, dash) for the index-th series of a many-series chart."""
    return PALETTE[index % len(PALETTE)], DASHES[(index // len(PALETTE)) % len(DASHES)]


# --------------------------------------------------------------------- helpers


def text_width(text: str, size: float = FONT_SIZE) -> float:
    """Rough rendered width: CJK glyphs are square, Latin ones ~0.6 em."""
    width = 0.0
    for ch in text:
        width += size if ord(ch) >= 0x2E80 else size * 0.6
    return width


def nice_ticks(lo: float, hi: float, target: int = 5) -> list[float]:
    """Round tick values covering [lo, hi] with about `target` intervals."""
    if not (math.isfinite(lo) and math.isfinite(hi)):
        lo, hi = 0.0, 1.0
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        hi = lo + (abs(lo) or 1.0)
    raw = (hi - lo) / target
    magnitude = 10 ** math.floor(math.log10(raw))
    step = magnitude * 10
    for m in (1, 2, 2.5, 5, 10):
        if m * magnitude >= raw * (1 - 1e-9):
            step = m * magnitude
            break
    start = math.floor(lo / step + 1e-9) * step
    end = math.ceil(hi / step - 1e-9) * step
    n = int(round((end - start) / step))
    return [float(f"{start + i * step:.12g}") for i in range(n + 1)]


def _decimals(step: float) -> int:
    for d in range(0, 6):
        scaled = step * 10**d
        if abs(scaled - round(scaled)) < 1e-6:
            return d
    return 6


def tick_label(value: float, step: float, kind: str) -> str:
    if kind == "rate":
        return f"{value * 100:.{_decimals(step * 100)}f}%"
    d = _decimals(step)
    if kind == "money":
        sign = "-" if value < 0 else ""
        return f"{sign}¥{abs(value):,.{d}f}"
    if kind == "ratio":
        return f"{value:,.{max(d, 1)}f}"
    return f"{value:,.{d}f}"


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _attr(value: str) -> str:
    return escape(value, quote=True)


def _default_tooltip(series: Series, category: str, value, kind: str) -> str:
    return f"{series.name} {category}: {formatting.value(value, kind)}"


@dataclass
class _Frame:
    """Geometry shared by the chart types."""

    width: int
    left: float
    top: float
    plot_w: float
    plot_h: float
    band: float
    y_lo: float
    y_hi: float

    def x(self, i: int) -> float:
        return self.left + (i + 0.5) * self.band

    def y(self, v: float) -> float:
        return self.top + self.plot_h * (1 - (v - self.y_lo) / (self.y_hi - self.y_lo))


def _legend_layout(names: list[str], width: int, left: float) -> tuple[int, float, int]:
    """(columns, column width, rows) of the legend grid under the plot."""
    if not names:
        return 0, 0.0, 0
    item_w = max(text_width(n) for n in names) + 34
    usable = width - left - 10
    cols = max(1, min(len(names), int(usable // item_w)))
    rows = math.ceil(len(names) / cols)
    return cols, item_w, rows


def _frame_and_axes(
    categories: Sequence[str],
    y_values: list[float],
    *,
    kind: str,
    y_label: str,
    width: int,
    plot_height: int,
    legend_names: list[str],
    y_min: float | None,
    y_max: float | None,
) -> tuple[_Frame, list[str], int]:
    """Compute the frame and draw grid, axes, tick labels and the y label."""
    lo = min(y_values) if y_values else 0.0
    hi = max(y_values) if y_values else 1.0
    if y_min is not None:
        lo = min(lo, y_min)
    if y_max is not None:
        hi = max(hi, y_max)
    ticks = nice_ticks(lo, hi)
    step = ticks[1] - ticks[0] if len(ticks) > 1 else 1.0
    labels = [tick_label(t, step, kind) for t in ticks]
    left = max(text_width(s) for s in labels) + 14
    top = 26.0
    right = 16.0
    plot_w = width - left - right
    n = max(1, len(categories))
    band = plot_w / n

    # x labels: thin them so that they do not overlap.
    label_w = max((text_width(c) for c in categories), default=0) + 10
    every = max(1, math.ceil(label_w / band)) if categories else 1
    x_label_h = 22
    cols, col_w, rows = _legend_layout(legend_names, width, left)
    legend_h = rows * 18 + (8 if rows else 0)
    height = int(top + plot_height + x_label_h + legend_h + 6)

    frame = _Frame(width, left, top, plot_w, plot_height, band, ticks[0], ticks[-1])
    parts: list[str] = []
    # y label above the axis, horizontal (readable for Chinese).
    parts.append(
        f'<text x="{_fmt(4)}" y="{_fmt(14)}" font-size="{FONT_SIZE}" fill="{TEXT_COLOR}">'
        f"{escape(y_label)}</text>"
    )
    # grid and y tick labels
    parts.append(f'<g class="grid" stroke="{GRID_COLOR}" stroke-width="1">')
    for t in ticks:
        y = frame.y(t)
        parts.append(f'<line x1="{_fmt(left)}" y1="{_fmt(y)}" x2="{_fmt(left + plot_w)}" y2="{_fmt(y)}"/>')
    parts.append("</g>")
    parts.append(f'<g class="y-ticks" font-size="{FONT_SIZE}" fill="{TEXT_COLOR}" text-anchor="end">')
    for t, s in zip(ticks, labels):
        parts.append(f'<text x="{_fmt(left - 6)}" y="{_fmt(frame.y(t) + 4)}">{escape(s)}</text>')
    parts.append("</g>")
    # axes
    base_y = frame.y(max(ticks[0], min(0.0, ticks[-1]))) if ticks[0] <= 0 <= ticks[-1] else frame.y(ticks[0])
    parts.append(
        f'<g class="axes" stroke="{AXIS_COLOR}" stroke-width="1">'
        f'<line x1="{_fmt(left)}" y1="{_fmt(top)}" x2="{_fmt(left)}" y2="{_fmt(top + plot_height)}"/>'
        f'<line x1="{_fmt(left)}" y1="{_fmt(base_y)}" x2="{_fmt(left + plot_w)}" y2="{_fmt(base_y)}"/>'
        "</g>"
    )
    parts.append(f'<g class="x-ticks" font-size="{FONT_SIZE}" fill="{TEXT_COLOR}" text-anchor="middle">')
    for i, c in enumerate(categories):
        if i % every == 0:
            parts.append(f'<text x="{_fmt(frame.x(i))}" y="{_fmt(top + plot_height + 16)}">{escape(c)}</text>')
    parts.append("</g>")
    return frame, parts, height


def _legend(
    entries: list[tuple[str, str, str, str]], frame: _Frame, width: int, start_y: float
) -> list[str]:
    """entries: (name, color, dash, shape 'line'|'box')."""
    names = [e[0] for e in entries]
    cols, col_w, rows = _legend_layout(names, width, frame.left)
    if not entries:
        return []
    parts = [f'<g class="legend" font-size="{FONT_SIZE}" fill="{TEXT_COLOR}">']
    for idx, (name, color, dash, shape) in enumerate(entries):
        r, c = divmod(idx, cols)
        x = frame.left + c * col_w
        y = start_y + r * 18
        if shape == "box":
            parts.append(f'<rect x="{_fmt(x)}" y="{_fmt(y - 9)}" width="18" height="10" fill="{color}"/>')
        else:
            dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
            parts.append(
                f'<line x1="{_fmt(x)}" y1="{_fmt(y - 4)}" x2="{_fmt(x + 22)}" y2="{_fmt(y - 4)}" '
                f'stroke="{color}" stroke-width="2.5"{dash_attr}/>'
            )
        parts.append(f'<text x="{_fmt(x + 27)}" y="{_fmt(y)}">{escape(name)}</text>')
    parts.append("</g>")
    return parts


def _wrap(parts: list[str], width: int, height: int, title: str, css_class: str) -> Markup:
    head = (
        f'<svg class="chart {_attr(css_class)}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{_attr(title)}">'
        f"<title>{escape(title)}</title>"
    )
    return Markup(head + "".join(parts) + "</svg>")


def _empty(title: str, width: int, height: int, css_class: str) -> Markup:
    parts = [
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="none" stroke="{GRID_COLOR}"/>',
        f'<text x="{width / 2:.0f}" y="{height / 2:.0f}" text-anchor="middle" font-size="{FONT_SIZE + 2}" '
        f'fill="#888">{formatting.NULL}</text>',
    ]
    return _wrap(parts, width, height, title, css_class + " empty")


# ----------------------------------------------------------------------- charts


def line_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    y_label: str,
    kind: str = "count",
    width: int = WIDTH,
    plot_height: int = 240,
    y_min: float | None = 0.0,
    y_max: float | None = None,
    css_class: str = "line-chart",
    legend: bool = True,
) -> Markup:
    """One polyline per series over categorical x (months); gaps at None."""
    values = [float(v) for s in series for v in s.values if v is not None and not formatting.is_null(v)]
    if not categories or not values:
        return _empty(title, width, plot_height + 60, css_class)
    styled = []
    for i, s in enumerate(series):
        color, dash = series_style(i)
        styled.append((s, s.color or color, s.dash if s.dash is not None else dash))
    names = [s.name for s in series] if legend else []
    frame, parts, height = _frame_and_axes(
        categories, values, kind=kind, y_label=y_label, width=width,
        plot_height=plot_height, legend_names=names, y_min=y_min, y_max=y_max,
    )
    markers = len(series) * len(categories) <= MAX_MARKERS
    for s, color, dash in styled:
        dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(f'<g class="series" data-series="{_attr(s.name)}">')
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, v in enumerate(list(s.values)[: len(categories)]):
            if v is None or formatting.is_null(v):
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{_fmt(frame.x(i))},{_fmt(frame.y(float(v)))}")
        if segment:
            segments.append(segment)
        for seg in segments:
            if len(seg) == 1:
                continue
            parts.append(
                f'<polyline fill="none" stroke="{color}" stroke-width="2" stroke-linejoin="round"'
                f'{dash_attr} points="{" ".join(seg)}"><title>{escape(s.name)}</title></polyline>'
            )
        for i, v in enumerate(list(s.values)[: len(categories)]):
            if v is None or formatting.is_null(v):
                continue
            isolated = (i == 0 or formatting.is_null(s.values[i - 1])) and (
                i + 1 >= len(s.values) or formatting.is_null(s.values[i + 1])
            )
            if not (markers or isolated):
                continue
            tip = s.tooltips[i] if s.tooltips and i < len(s.tooltips) and s.tooltips[i] else None
            tip = tip or _default_tooltip(s, categories[i], v, kind)
            parts.append(
                f'<circle cx="{_fmt(frame.x(i))}" cy="{_fmt(frame.y(float(v)))}" r="3" fill="{color}">'
                f"<title>{escape(tip)}</title></circle>"
            )
        parts.append("</g>")
    if legend:
        entries = [(s.name, color, dash, "line") for s, color, dash in styled]
        parts += _legend(entries, frame, width, frame.top + frame.plot_h + 22 + 16)
    return _wrap(parts, width, height, title, css_class)


def bar_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    title: str,
    y_label: str,
    kind: str = "count",
    width: int = WIDTH,
    plot_height: int = 240,
    stacked: bool = True,
    css_class: str = "bar-chart",
    legend: bool = True,
) -> Markup:
    """Bars per category: stacked (status mix) or side by side."""
    numeric = [[0.0 if formatting.is_null(v) else float(v) for v in s.values] for s in series]
    if not categories or not series or all(formatting.is_null(v) for s in series for v in s.values):
        return _empty(title, width, plot_height + 60, css_class)
    if stacked:
        tops = [sum(max(0.0, col[i]) for col in numeric if i < len(col)) for i in range(len(categories))]
        bottoms = [sum(min(0.0, col[i]) for col in numeric if i < len(col)) for i in range(len(categories))]
        extent = tops + bottoms
    else:
        extent = [v for col in numeric for v in col]
    names = [s.name for s in series] if legend else []
    frame, parts, height = _frame_and_axes(
        categories, extent + [0.0], kind=kind, y_label=y_label, width=width,
        plot_height=plot_height, legend_names=names, y_min=0.0, y_max=None,
    )
    colors = [s.color or series_style(i)[0] for i, s in enumerate(series)]
    gap = 0.2 if frame.band > 6 else 0.0
    bar_w = frame.band * (1 - gap)
    pos_base = [0.0] * len(categories)
    neg_base = [0.0] * len(categories)
    for si, s in enumerate(series):
        parts.append(f'<g class="series" data-series="{_attr(s.name)}" fill="{colors[si]}">')
        for i in range(len(categories)):
            raw = s.values[i] if i < len(s.values) else None
            if formatting.is_null(raw):
                continue
            v = float(raw)
            if stacked:
                base = pos_base if v >= 0 else neg_base
                y0, y1 = base[i], base[i] + v
                base[i] = y1
                x = frame.x(i) - bar_w / 2
                w = bar_w
            else:
                y0, y1 = 0.0, v
                w = bar_w / len(series)
                x = frame.x(i) - bar_w / 2 + si * w
            top_px, bottom_px = sorted((frame.y(y0), frame.y(y1)))
            tip = s.tooltips[i] if s.tooltips and i < len(s.tooltips) and s.tooltips[i] else None
            tip = tip or _default_tooltip(s, categories[i], raw, kind)
            parts.append(
                f'<rect x="{_fmt(x)}" y="{_fmt(top_px)}" width="{_fmt(max(w, 0.5))}" '
                f'height="{_fmt(max(bottom_px - top_px, 0.0))}"><title>{escape(tip)}</title></rect>'
            )
        parts.append("</g>")
    if legend:
        entries = [(s.name, colors[i], "", "box") for i, s in enumerate(series)]
        parts += _legend(entries, frame, width, frame.top + frame.plot_h + 22 + 16)
    return _wrap(parts, width, height, title, css_class)


@dataclass
class Interval:
    """A point estimate with its interval: the campaigns' uplift and its 95% bounds."""

    value: float | None
    low: float | None
    high: float | None
    tooltip: str
    color: str = "#1f77b4"


def interval_chart(
    categories: Sequence[str],
    intervals: Sequence[Interval],
    *,
    title: str,
    y_label: str,
    kind: str = "rate",
    width: int = WIDTH,
    plot_height: int = 220,
    css_class: str = "interval-chart",
) -> Markup:
    """A dot per category with its interval as an error bar, and the zero line
    (an interval that crosses it shows no effect distinguishable from none)."""
    values = [float(v) for iv in intervals for v in (iv.value, iv.low, iv.high) if not formatting.is_null(v)]
    if not categories or not values:
        return _empty(title, width, plot_height + 60, css_class)
    frame, parts, height = _frame_and_axes(
        categories, values + [0.0], kind=kind, y_label=y_label, width=width,
        plot_height=plot_height, legend_names=[], y_min=None, y_max=None,
    )
    zero = frame.y(0.0)
    parts.append(
        f'<line class="zero" x1="{_fmt(frame.left)}" y1="{_fmt(zero)}" x2="{_fmt(frame.left + frame.plot_w)}" '
        f'y2="{_fmt(zero)}" stroke="{AXIS_COLOR}" stroke-width="1.5" stroke-dasharray="4 3"/>'
    )
    cap = min(8.0, frame.band * 0.3)
    for i, iv in enumerate(intervals[: len(categories)]):
        if formatting.is_null(iv.value):
            continue
        x = frame.x(i)
        parts.append(f'<g class="interval" fill="{iv.color}" stroke="{iv.color}"><title>{escape(iv.tooltip)}</title>')
        if not (formatting.is_null(iv.low) or formatting.is_null(iv.high)):
            lo, hi = frame.y(float(iv.low)), frame.y(float(iv.high))
            parts.append(
                f'<line class="error-bar" x1="{_fmt(x)}" y1="{_fmt(lo)}" x2="{_fmt(x)}" y2="{_fmt(hi)}" stroke-width="2"/>'
                f'<line x1="{_fmt(x - cap)}" y1="{_fmt(lo)}" x2="{_fmt(x + cap)}" y2="{_fmt(lo)}" stroke-width="2"/>'
                f'<line x1="{_fmt(x - cap)}" y1="{_fmt(hi)}" x2="{_fmt(x + cap)}" y2="{_fmt(hi)}" stroke-width="2"/>'
            )
        parts.append(f'<circle cx="{_fmt(x)}" cy="{_fmt(frame.y(float(iv.value)))}" r="4.5"/></g>')
    return _wrap(parts, width, height, title, css_class)


def calibration_chart(
    points: Sequence[tuple[float, float, str]],
    *,
    title: str,
    x_label: str,
    y_label: str,
    diagonal_label: str,
    points_label: str,
    width: int = HALF_WIDTH,
    plot_height: int = 260,
    css_class: str = "calibration",
) -> Markup:
    """Predicted (x) against observed (y) rates, both 0-100%, one dot per
    group (a score decile) joined in order, with its tooltip, and the
    diagonal where a well-calibrated score's dots lie."""
    points = [p for p in points if not (formatting.is_null(p[0]) or formatting.is_null(p[1]))]
    if not points:
        return _empty(title, width, plot_height + 60, css_class)
    ticks = [i / 5 for i in range(6)]
    labels = [tick_label(t, 0.2, "rate") for t in ticks]
    left, top, plot_w = max(text_width(s) for s in labels) + 14, 26.0, float(min(width - 80, plot_height * 1.6))
    frame = _Frame(width, left, top, plot_w, plot_height, plot_w, 0.0, 1.0)

    def x(v: float) -> float:
        return left + plot_w * float(v)

    parts = [f'<text x="4" y="14" font-size="{FONT_SIZE}" fill="{TEXT_COLOR}">{escape(y_label)}</text>',
             f'<g class="grid" stroke="{GRID_COLOR}" stroke-width="1">']
    for t in ticks:
        y = _fmt(frame.y(t))
        parts.append(f'<line x1="{_fmt(left)}" y1="{y}" x2="{_fmt(left + plot_w)}" y2="{y}"/>'
                     f'<line x1="{_fmt(x(t))}" y1="{_fmt(top)}" x2="{_fmt(x(t))}" y2="{_fmt(top + plot_height)}"/>')
    parts.append(f'</g><g class="ticks" font-size="{FONT_SIZE}" fill="{TEXT_COLOR}">')
    for t, s in zip(ticks, labels):
        parts.append(f'<text x="{_fmt(left - 6)}" y="{_fmt(frame.y(t) + 4)}" text-anchor="end">{escape(s)}</text>'
                     f'<text x="{_fmt(x(t))}" y="{_fmt(top + plot_height + 16)}" text-anchor="middle">'
                     f'{escape(s)}</text>')
    parts.append(f'</g><text x="{_fmt(left + plot_w / 2)}" y="{_fmt(top + plot_height + 34)}" text-anchor="middle" '
                 f'font-size="{FONT_SIZE}" fill="{TEXT_COLOR}">{escape(x_label)}</text>')
    parts.append(f'<line class="diagonal" x1="{_fmt(x(0))}" y1="{_fmt(frame.y(0))}" x2="{_fmt(x(1))}" '
                 f'y2="{_fmt(frame.y(1))}" stroke="{AXIS_COLOR}" stroke-width="1.5" stroke-dasharray="6 3">'
                 f'<title>{escape(diagonal_label)}</title></line>')
    color = PALETTE[0]
    line = " ".join(f"{_fmt(x(px))},{_fmt(frame.y(float(py)))}" for px, py, _ in points)
    parts.append(f'<g class="series" data-series="{_attr(points_label)}"><polyline fill="none" stroke="{color}" '
                 f'stroke-width="2" points="{line}"/>')
    for px, py, tip in points:
        parts.append(f'<circle cx="{_fmt(x(px))}" cy="{_fmt(frame.y(float(py)))}" r="4" fill="{color}">'
                     f"<title>{escape(tip)}</title></circle>")
    parts.append("</g>")
    legend_y = top + plot_height + 56
    parts += _legend([(points_label, color, "", "line"), (diagonal_label, AXIS_COLOR, "6 3", "line")],
                     frame, width, legend_y)
    rows = _legend_layout([points_label, diagonal_label], width, left)[2]
    return _wrap(parts, width, int(legend_y + rows * 18 + 4), title, css_class)
