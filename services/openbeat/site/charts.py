"""Charts and the district map as static SVG, drawn with matplotlib from small tables.

Why matplotlib: it is the long-maintained standard of Python plotting, draws SVG without a
browser or JavaScript (pages read with scripts off), and is deterministic when asked to be: a
fixed `svg.hashsalt` and no date in the metadata give the same bytes for the same numbers, so an
unchanged chart is never rewritten. The Figure API is used directly (no pyplot global state),
so charts can be drawn from a background thread.

Drawing costs tens of milliseconds per chart, so every chart is cached by a digest of its
inputs: a rebuild with the same numbers reuses the bytes. The map draws the jurisdiction's
district boundaries (GeoJSON, via shapely) when it ships them, else a schematic of labelled
circles at the district centroids; no tile server, nothing fetched.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib

matplotlib.use("svg")
from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.patches import Circle, PathPatch
from matplotlib.path import Path as MplPath

from openbeat.contracts.jurisdiction import Jurisdiction

logger = logging.getLogger(__name__)

WIDTH_IN, HEIGHT_IN, DPI = 7.2, 3.0, 100
COLOURS = ("#0b5394", "#b45f06", "#38761d")
RC: dict[Any, Any] = {"svg.hashsalt": "openbeat", "svg.fonttype": "none", "font.size": 10}

_CACHE: OrderedDict[str, bytes] = OrderedDict()
_CACHE_SIZE = 256
_LOCK = threading.Lock()


def _cached(kind: str, spec: Any, draw: Callable[[], bytes]) -> bytes:
    digest = hashlib.sha256(
        json.dumps([kind, spec], sort_keys=True, default=str).encode("utf-8")
    ).hexdigest()
    with _LOCK:
        if digest in _CACHE:
            _CACHE.move_to_end(digest)
            return _CACHE[digest]
    data = draw()
    with _LOCK:
        _CACHE[digest] = data
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return data


def clear_cache() -> None:
    """Forget every drawn chart (tests: a build that must draw again)."""
    with _LOCK:
        _CACHE.clear()


def _svg(fig: Figure, title: str) -> bytes:
    out = io.StringIO()
    with matplotlib.rc_context(RC):
        FigureCanvasSVG(fig).print_svg(out, metadata={"Date": None, "Title": title})
    return out.getvalue().encode("utf-8")


def _figure(height: float = HEIGHT_IN, left: float = 0.11) -> Figure:
    """A figure with fixed margins: matplotlib's automatic layouts measure every text and cost
    more than the drawing itself, and the charts' shapes are known in advance."""
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, height), dpi=DPI)
        fig.subplots_adjust(left=left, right=0.97, top=1 - 0.3 / height, bottom=0.55 / height)
        return fig


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[float]],
    ylabel: str,
    ylim: tuple[float, float] | None = None,
) -> bytes:
    """One line per series over `labels` (weeks); the y axis starts at 0 unless `ylim`."""
    spec = [title, list(labels), {k: list(v) for k, v in series.items()}, ylabel, ylim]

    def draw() -> bytes:
        fig = _figure()
        with matplotlib.rc_context(RC):
            ax = fig.add_subplot()
            xs = list(range(len(labels)))
            for (name, values), colour in zip(series.items(), COLOURS, strict=False):
                ax.plot(xs, list(values), marker="o", markersize=3, color=colour, label=name)
            step = max(1, len(labels) // 8)
            ax.set_xticks(xs[::step], [labels[i] for i in xs[::step]], rotation=0)
            ax.set_ylabel(ylabel)
            if ylim is None:
                ax.set_ylim(bottom=0)
            else:
                ax.set_ylim(*ylim)
            ax.set_title(title)
            ax.grid(axis="y", color="#dddddd")
            ax.spines[["top", "right"]].set_visible(False)
            if len(series) > 1:
                ax.legend(frameon=False)
        return _svg(fig, title)

    return _cached("line", spec, draw)


def bar_chart(title: str, labels: Sequence[str], values: Sequence[int]) -> bytes:
    """Horizontal bars, largest on top."""
    spec = [title, list(labels), list(values)]

    def draw() -> bytes:
        longest = max((len(label) for label in labels), default=1)
        fig = _figure(max(2.0, 0.3 * len(labels) + 0.8), left=min(0.5, 0.02 + 0.0115 * longest))
        with matplotlib.rc_context(RC):
            ax = fig.add_subplot()
            ys = list(range(len(labels)))[::-1]
            ax.barh(ys, list(values), color=COLOURS[0])
            ax.set_yticks(ys, list(labels))
            for y, v in zip(ys, values, strict=True):
                ax.text(v, y, f" {v}", va="center", fontsize=9)
            ax.set_title(title)
            ax.spines[["top", "right"]].set_visible(False)
        return _svg(fig, title)

    return _cached("bar", spec, draw)


def _ring_path(coords: Sequence[Sequence[float]]) -> tuple[list[tuple[float, float]], list[Any]]:
    points = [(float(x), float(y)) for x, y in coords]
    codes = [MplPath.MOVETO] + [MplPath.LINETO] * (len(points) - 2) + [MplPath.CLOSEPOLY]
    return points, codes


def _polygon_path(geometry: Any) -> MplPath:
    vertices: list[tuple[float, float]] = []
    codes: list[Any] = []
    polygons = geometry.geoms if geometry.geom_type == "MultiPolygon" else [geometry]
    for polygon in polygons:
        for ring in (polygon.exterior, *polygon.interiors):
            v, c = _ring_path(list(ring.coords))
            vertices += v
            codes += c
    return MplPath(vertices, codes)


def district_map(title: str, jurisdiction: Jurisdiction, values: Mapping[str, int]) -> bytes:
    """Districts shaded by `values` (boundaries when known, else circles at the centroids)."""
    boundaries = jurisdiction.district_boundaries
    names = {d.id: d.name for d in jurisdiction.districts}
    spec = [title, jurisdiction.id, str(jurisdiction.boundaries), dict(sorted(values.items()))]

    def draw() -> bytes:
        top = max(values.values(), default=0) or 1
        fig = _figure(4.2)
        with matplotlib.rc_context(RC):
            ax = fig.add_subplot()
            ax.set_aspect("equal")
            ax.set_axis_off()
            ax.set_title(title)
            if boundaries is not None:
                for district, geometry in zip(boundaries.ids, boundaries.geometries, strict=True):
                    share = values.get(district, 0) / top
                    ax.add_patch(
                        PathPatch(
                            _polygon_path(geometry),
                            facecolor=_shade(share),
                            edgecolor="#333333",
                            linewidth=0.8,
                        )
                    )
                    where = geometry.representative_point()
                    _label(ax, where.x, where.y, names[district], values.get(district, 0), share)
                minx, miny, maxx, maxy = _bounds(boundaries.geometries)
            else:
                box = jurisdiction.bbox
                minx, miny, maxx, maxy = box.min_lon, box.min_lat, box.max_lon, box.max_lat
                radius = min(maxx - minx, maxy - miny) / 10
                for d in jurisdiction.districts:
                    if d.centroid is None:
                        continue
                    lat, lon = d.centroid
                    share = values.get(d.id, 0) / top
                    ax.add_patch(
                        Circle((lon, lat), radius, facecolor=_shade(share), edgecolor="#333333")
                    )
                    _label(ax, lon, lat, d.name, values.get(d.id, 0), share)
            ax.set_xlim(minx, maxx)
            ax.set_ylim(miny, maxy)
        return _svg(fig, title)

    return _cached("map", spec, draw)


def _bounds(geometries: Sequence[Any]) -> tuple[float, float, float, float]:
    boxes = [g.bounds for g in geometries]
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _shade(share: float) -> str:
    """White to dark blue; dark fills get white labels (see `_label`)."""
    light, dark = (0xF1, 0xF5, 0xFB), (0x0B, 0x53, 0x94)
    rgb = [round(a + (b - a) * share) for a, b in zip(light, dark, strict=True)]
    return "#" + "".join(f"{c:02x}" for c in rgb)


def _label(ax: Any, x: float, y: float, name: str, value: int, share: float) -> None:
    colour = "white" if share > 0.55 else "#1b1b1b"
    ax.text(x, y, f"{name}\n{value}", ha="center", va="center", fontsize=9, color=colour)
