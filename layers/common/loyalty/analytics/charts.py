"""The report's charts as inline SVG drawn here, on the server: vertical bars (grouped or
stacked), lines and horizontal bars, each with its axis, gridlines and labels, sized by a viewBox
so the page scales them to the screen (375 px phones included). No script, no external fetch.

Coordinates are floats (drawing only; the figures the page prints are formatted from the
report's decimals). Every text is escaped; colours are CSS classes of the page (`s1`..`s4`)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

W, H = 400.0, 210.0  # the viewBox of a chart: the page scales it to the column's width
LEFT, RIGHT, TOP, BOTTOM = 50.0, 8.0, 10.0, 34.0
FONT = 10


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[float | None]  # one per category; None = no figure for that month
    css: str  # the page's colour class: s1 .. s4


@dataclass(frozen=True)
class Chart:
    title: str
    svg: Markup
    legend: tuple[tuple[str, str], ...]  # (name, css class)


def nice_step(span: float, ticks: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 x 10^k) that cuts `span` into about `ticks` intervals."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    mag = 10.0 ** math.floor(math.log10(raw))
    for m in (1.0, 2.0, 2.5, 5.0, 10.0):
        if raw <= m * mag + 1e-12:
            return m * mag
    return 10 * mag  # pragma: no cover - the loop ends at 10 x mag >= raw


def axis(values: Sequence[float]) -> list[float]:
    """The y ticks from the lower to the upper round value, zero always included."""
    lo, hi = min([0.0, *values]), max([0.0, *values])
    if lo == hi:
        hi = 1.0
    step = nice_step(hi - lo)
    first, last = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return [round(i * step, 10) for i in range(first, last + 1)]


def _n(x: float) -> str:
    """A coordinate with one decimal (stable text: the same report draws the same bytes)."""
    return f"{x:.1f}".replace("-0.0", "0.0")


def _svg(parts: list[str]) -> Markup:
    """The drawn chart: every text in it went through `escape`, the rest are numbers and the
    page's class names."""
    return Markup("".join(parts))  # noqa: S704 - texts escaped by _text/_open, the rest is numbers


def _text(x: float, y: float, text: str, anchor: str = "middle", css: str = "lbl") -> str:
    return f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}" class="{css}">{escape(text)}</text>'


def _open(title: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W:.0f} {H:.0f}" role="img" '
        f'aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]


class _Frame:
    """The plot area between the margins, its y scale and the drawn axis."""

    def __init__(self, ticks: list[float], n: int) -> None:
        self.lo, self.hi = ticks[0], ticks[-1]
        self.ticks = ticks
        self.n = max(n, 1)
        self.x0, self.x1 = LEFT, W - RIGHT
        self.y0, self.y1 = H - BOTTOM, TOP  # y0: the bottom of the plot

    def y(self, v: float) -> float:
        return self.y0 - (v - self.lo) / (self.hi - self.lo) * (self.y0 - self.y1)

    def band(self) -> float:
        return (self.x1 - self.x0) / self.n

    def cx(self, i: int) -> float:
        return self.x0 + self.band() * (i + 0.5)

    def grid(self, tick: Callable[[float], str], cats: Sequence[str], years: Sequence[str]) -> list[str]:
        out = []
        for t in self.ticks:
            y = self.y(t)
            css = "axis" if t == 0 else "grid"
            out.append(
                f'<line x1="{_n(self.x0)}" y1="{_n(y)}" x2="{_n(self.x1)}" y2="{_n(y)}" class="{css}"/>'
            )
            out.append(_text(self.x0 - 4, y + 3.5, tick(t), "end"))
        for i, c in enumerate(cats):
            out.append(_text(self.cx(i), self.y0 + 13, c))
            if i < len(years) and years[i]:
                out.append(_text(self.cx(i), self.y0 + 25, years[i], css="lbl yr"))
        return out


def bars(
    title: str,
    cats: Sequence[str],
    series: Sequence[Series],
    tick: Callable[[float], str],
    years: Sequence[str] = (),
    stacked: bool = False,
) -> Chart:
    """Vertical bars per category: side by side (grouped) or on top of each other (stacked;
    negative parts go below zero)."""
    cols = [[s.values[i] or 0.0 for s in series] for i in range(len(cats))]
    if stacked:
        extent = [sum(v for v in c if v > 0) for c in cols] + [sum(v for v in c if v < 0) for c in cols]
    else:
        extent = [v for c in cols for v in c]
    f = _Frame(axis(extent), len(cats))
    out = _open(title) + f.grid(tick, cats, years)
    band = f.band()
    inner = band * 0.76
    for i, c in enumerate(cols):
        left = f.cx(i) - inner / 2
        up = down = 0.0
        for k, v in enumerate(c):
            if series[k].values[i] is None:
                continue
            if stacked:
                base = up if v >= 0 else down
                top = base + v
                up, down = (top, down) if v >= 0 else (up, top)
                x, w = left, inner
            else:
                base, top = 0.0, v
                w = inner / len(series)
                x = left + k * w
            y_hi, y_lo = f.y(max(base, top)), f.y(min(base, top))
            out.append(
                f'<rect x="{_n(x)}" y="{_n(y_hi)}" width="{_n(max(w - 1, 1))}" '
                f'height="{_n(max(y_lo - y_hi, 0.0))}" class="{series[k].css}"/>'
            )
    out.append("</svg>")
    return Chart(title, _svg(out), tuple((s.name, s.css) for s in series))


def lines(
    title: str,
    cats: Sequence[str],
    series: Sequence[Series],
    tick: Callable[[float], str],
    years: Sequence[str] = (),
) -> Chart:
    """A line per series with a dot per figure; a month without a figure breaks the line."""
    f = _Frame(axis([v for s in series for v in s.values if v is not None]), len(cats))
    out = _open(title) + f.grid(tick, cats, years)
    for s in series:
        runs: list[list[tuple[float, float]]] = [[]]
        for i, v in enumerate(s.values):
            if v is None:
                runs.append([])
                continue
            runs[-1].append((f.cx(i), f.y(v)))
        for run in runs:
            if len(run) > 1:
                pts = " ".join(f"{_n(x)},{_n(y)}" for x, y in run)
                out.append(f'<polyline points="{pts}" class="line {s.css}"/>')
            out += [f'<circle cx="{_n(x)}" cy="{_n(y)}" r="2.5" class="{s.css}"/>' for x, y in run]
    out.append("</svg>")
    return Chart(title, _svg(out), tuple((s.name, s.css) for s in series))


def hbars(title: str, labels: Sequence[str], values: Sequence[float], texts: Sequence[str]) -> Chart:
    """One horizontal bar per label with its value printed at the bar's end."""
    row = 22.0
    height = TOP + row * max(len(labels), 1) + 6
    left, right = 96.0, 70.0
    top = max([0.0, *values]) or 1.0
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W:.0f} {height:.0f}" role="img" '
        f'aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    span = W - left - right
    for i, (label, v, text) in enumerate(zip(labels, values, texts, strict=True)):
        y = TOP + i * row
        w = max(v, 0.0) / top * span
        out.append(_text(left - 6, y + 14, label, "end"))
        out.append(
            f'<rect x="{_n(left)}" y="{_n(y + 3)}" width="{_n(w)}" height="{_n(row - 7)}" class="s1"/>'
        )
        out.append(_text(left + w + 4, y + 14, text, "start"))
    out.append(f'<line x1="{_n(left)}" y1="{_n(TOP)}" x2="{_n(left)}" y2="{_n(height - 6)}" class="axis"/>')
    out.append("</svg>")
    return Chart(title, _svg(out), ())


def interval(title: str, estimate: float, low: float, high: float, tick: Callable[[float], str]) -> Chart:
    """An estimate and its confidence interval on a horizontal axis through zero (a pilot's
    uplift): the bar's reach across zero says whether the effect is distinguishable from none."""
    height = 56.0
    lo, hi = min(low, estimate, 0.0), max(high, estimate, 0.0)
    ticks = axis([lo, hi]) if lo < 0 else axis([hi])
    ticks = [t for t in ticks if t >= ticks[0]]
    a, b = ticks[0], ticks[-1]
    x0, x1 = 20.0, W - 20.0

    def x(v: float) -> float:
        return x0 + (v - a) / (b - a) * (x1 - x0)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W:.0f} {height:.0f}" role="img" '
        f'aria-label="{escape(title)}" class="chart">',
        f"<title>{escape(title)}</title>",
    ]
    for t in ticks:
        css = "axis" if t == 0 else "grid"
        out.append(f'<line x1="{_n(x(t))}" y1="8" x2="{_n(x(t))}" y2="34" class="{css}"/>')
        out.append(_text(x(t), 48, tick(t)))
    out.append(f'<line x1="{_n(x(low))}" y1="21" x2="{_n(x(high))}" y2="21" class="ci"/>')
    for v in (low, high):
        out.append(f'<line x1="{_n(x(v))}" y1="15" x2="{_n(x(v))}" y2="27" class="ci"/>')
    out.append(f'<circle cx="{_n(x(estimate))}" cy="21" r="4" class="s1"/>')
    out.append("</svg>")
    return Chart(title, _svg(out), ())
