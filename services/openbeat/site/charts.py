"""Charts and the district map as static SVG, written directly from small tables.

Why no charting library: the site draws a handful of fixed shapes (a weekly line per district
and for the city, one bar chart, one map), and matplotlib cost more than everything else in a
build: about 0.7 s to import and 50 ms a chart, several times the whole rest of the site for a
1M-incident store (bench stage `site`; the goal is a site build under a quarter of the release
it follows, and a city with 22 districts draws 24 charts). Written here, each chart is a few
hundred bytes of plain SVG elements in a fixed layout, costs well under a millisecond, reads
with JavaScript off, and is deterministic by construction (no ids, dates or hashes), so an
unchanged chart keeps its bytes and its ETag.

Readability: a title, axis labels, a y axis from 0 with round-number grid lines, values on the
bars, a legend when there are several lines, text in the page's font; every chart also carries
an SVG <title>, and every page shows it with a text alternative and its numbers as a table
(pages.py). The map draws the jurisdiction's district boundaries (GeoJSON, via shapely) when it
ships them, else labelled circles at the district centroids; no tile server, nothing fetched.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from openbeat.contracts.jurisdiction import Jurisdiction

logger = logging.getLogger(__name__)

WIDTH = 720
HEIGHT = 300
COLOURS = ("#0b5394", "#b45f06", "#38761d")
INK, GRID, EDGE = "#1b1b1b", "#dddddd", "#333333"
FONT = "system-ui,-apple-system,'Segoe UI',Roboto,sans-serif"
TICKS = 5  # about this many grid lines on a value axis


def _n(value: float) -> str:
    """A coordinate with one decimal, no trailing zero (stable text for equal numbers)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _text(x: float, y: float, text: str, anchor: str = "middle", **attrs: Any) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{escape(str(v))}"' for k, v in attrs.items())
    return f'<text x="{_n(x)}" y="{_n(y)}" text-anchor="{anchor}"{extra}>{escape(text)}</text>'


def _svg(title: str, height: float, body: Iterable[str]) -> bytes:
    h = _n(height)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{h}" '
        f'viewBox="0 0 {WIDTH} {h}" role="img" font-family="{FONT}" font-size="13" '
        f'fill="{INK}">\n<title>{escape(title)}</title>\n'
        f'<rect width="{WIDTH}" height="{h}" fill="#ffffff"/>\n'
        + _text(WIDTH / 2, 20, title, font_size=15, font_weight="600")
        + "\n"
    )
    return (head + "\n".join(body) + "\n</svg>\n").encode("utf-8")


def nice_ticks(low: float, high: float, count: int = TICKS) -> list[float]:
    """Round-number ticks (1, 2 or 5 times a power of ten) covering [low, high]."""
    high = max(high, low + 1)  # a chart of counts or 1-5 scores: a span below 1 is widened
    raw = (high - low) / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.floor(low / step) * step
    steps = math.ceil(round((high - first) / step, 9))
    return [round(first + i * step, 9) for i in range(steps + 1)]


def _tick_label(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    ylabel: str,
    ylim: tuple[float, float] | None = None,
) -> bytes:
    """One line per series over `labels` (weeks); the y axis starts at 0 unless `ylim`."""
    left, right, top, bottom = 70.0, WIDTH - 20.0, 40.0, HEIGHT - 45.0
    values = [v for vs in series.values() for v in vs]
    ticks = nice_ticks(0, max(values, default=0)) if ylim is None else nice_ticks(*ylim)
    low, high = ticks[0], ticks[-1]

    def y(value: float) -> float:
        return bottom - (value - low) / (high - low) * (bottom - top)

    count = max(len(labels), 1)

    def x(i: int) -> float:
        return left + (i + 0.5) * (right - left) / count

    body = []
    for tick in ticks:
        body.append(
            f'<line x1="{_n(left)}" x2="{_n(right)}" y1="{_n(y(tick))}" y2="{_n(y(tick))}" '
            f'stroke="{GRID}"/>'
        )
        body.append(_text(left - 6, y(tick) + 4, _tick_label(tick), "end"))
    body.append(
        f'<path d="M{_n(left)} {_n(top)}V{_n(bottom)}H{_n(right)}" fill="none" stroke="{EDGE}"/>'
    )
    step = max(1, len(labels) // 8)
    for i in range(0, len(labels), step):
        body.append(
            f'<line x1="{_n(x(i))}" x2="{_n(x(i))}" y1="{_n(bottom)}" '
            f'y2="{_n(bottom + 4)}" stroke="{EDGE}"/>'
        )
        body.append(_text(x(i), bottom + 18, labels[i]))
    middle = (top + bottom) / 2
    body.append(_text(18, middle, ylabel, transform=f"rotate(-90 18 {_n(middle)})"))
    for n, ((name, points), colour) in enumerate(zip(series.items(), COLOURS, strict=False)):
        coords = [(x(i), y(v)) for i, v in enumerate(points)]
        path = " ".join(f"{_n(a)},{_n(b)}" for a, b in coords)
        body.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"/>')
        body += [f'<circle cx="{_n(a)}" cy="{_n(b)}" r="3" fill="{colour}"/>' for a, b in coords]
        if len(series) > 1:
            ly = top + 6 + 18 * n
            body.append(
                f'<line x1="{_n(right - 150)}" x2="{_n(right - 126)}" y1="{_n(ly)}" '
                f'y2="{_n(ly)}" stroke="{colour}" stroke-width="2"/>'
            )
            body.append(_text(right - 120, ly + 4, name, "start"))
    return _svg(title, HEIGHT, body)


def bar_chart(title: str, labels: Sequence[str], values: Sequence[int]) -> bytes:
    """Horizontal bars, largest on top, each with its value at its end."""
    longest = max((len(label) for label in labels), default=1)
    left = min(WIDTH * 0.5, 16 + 7.5 * longest)
    right, top, row = WIDTH - 70.0, 40.0, 26.0
    height = top + row * max(len(labels), 1) + 16
    top_value = max(values, default=0) or 1
    body = [f'<path d="M{_n(left)} {_n(top)}V{_n(top + row * len(labels))}" stroke="{EDGE}"/>']
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = top + row * i
        width = value / top_value * (right - left)
        body.append(
            f'<rect x="{_n(left)}" y="{_n(y + 4)}" width="{_n(width)}" '
            f'height="{_n(row - 8)}" fill="{COLOURS[0]}"/>'
        )
        body.append(_text(left - 6, y + row / 2 + 4, label, "end"))
        body.append(_text(left + width + 5, y + row / 2 + 4, str(value), "start"))
    return _svg(title, height, body)


def _shade(share: float) -> str:
    """White to dark blue; dark fills get white labels (see `_label`)."""
    light, dark = (0xF1, 0xF5, 0xFB), (0x0B, 0x53, 0x94)
    rgb = [round(a + (b - a) * share) for a, b in zip(light, dark, strict=True)]
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _label(x: float, y: float, name: str, value: int, share: float) -> str:
    colour = "#ffffff" if share > 0.55 else INK
    return _text(x, y - 3, name, fill=colour, font_weight="600") + _text(
        x, y + 13, str(value), fill=colour
    )


class _Frame:
    """Longitude/latitude to SVG points, one scale for both (the map is not stretched)."""

    def __init__(self, box: tuple[float, float, float, float], height: float) -> None:
        minx, miny, maxx, maxy = box
        pad, top = 10.0, 34.0
        span_x, span_y = max(maxx - minx, 1e-9), max(maxy - miny, 1e-9)
        self.scale = min((WIDTH - 2 * pad) / span_x, (height - top - pad) / span_y)
        self.x0 = (WIDTH - span_x * self.scale) / 2 - minx * self.scale
        self.y0 = top + (height - top - pad - span_y * self.scale) / 2 + maxy * self.scale

    def point(self, lon: float, lat: float) -> tuple[float, float]:
        return self.x0 + lon * self.scale, self.y0 - lat * self.scale


def _polygon_d(frame: _Frame, geometry: Any) -> str:
    polygons = geometry.geoms if geometry.geom_type == "MultiPolygon" else [geometry]
    parts = []
    for polygon in polygons:
        for ring in (polygon.exterior, *polygon.interiors):
            points = [frame.point(lon, lat) for lon, lat in list(ring.coords)[:-1]]
            parts.append("M" + "L".join(f"{_n(a)} {_n(b)}" for a, b in points) + "Z")
    return "".join(parts)


def district_map(title: str, jurisdiction: Jurisdiction, values: Mapping[str, int]) -> bytes:
    """Districts shaded by `values` (boundaries when known, else circles at the centroids)."""
    height = 420.0
    top = max(values.values(), default=0) or 1
    names = {d.id: d.name for d in jurisdiction.districts}
    boundaries = jurisdiction.district_boundaries
    body = []
    if boundaries is not None:
        boxes = [g.bounds for g in boundaries.geometries]
        frame = _Frame(
            (
                min(b[0] for b in boxes),
                min(b[1] for b in boxes),
                max(b[2] for b in boxes),
                max(b[3] for b in boxes),
            ),
            height,
        )
        labels = []
        for district, geometry in zip(boundaries.ids, boundaries.geometries, strict=True):
            share = values.get(district, 0) / top
            body.append(
                f'<path d="{_polygon_d(frame, geometry)}" fill="{_shade(share)}" '
                f'fill-rule="evenodd" stroke="{EDGE}" stroke-width="1"/>'
            )
            where = geometry.representative_point()
            x, y = frame.point(where.x, where.y)
            labels.append(_label(x, y, names[district], values.get(district, 0), share))
        body += labels  # above every fill
    else:
        box = jurisdiction.bbox
        frame = _Frame((box.min_lon, box.min_lat, box.max_lon, box.max_lat), height)
        radius = min(box.max_lon - box.min_lon, box.max_lat - box.min_lat) / 10 * frame.scale
        for d in jurisdiction.districts:
            if d.centroid is None:
                continue
            lat, lon = d.centroid
            x, y = frame.point(lon, lat)
            share = values.get(d.id, 0) / top
            body.append(
                f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(radius)}" fill="{_shade(share)}" '
                f'stroke="{EDGE}"/>'
            )
            body.append(_label(x, y, d.name, values.get(d.id, 0), share))
    return _svg(title, height, body)
