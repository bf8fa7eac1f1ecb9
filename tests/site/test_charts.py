"""The site's SVG charts (site/charts.py, matplotlib): well-formed SVG with a title, every label
and value a reader needs as real text (not glyph paths), equal bytes for equal numbers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.site import charts

NS = "{http://www.w3.org/2000/svg}"


def _texts(svg: bytes) -> list[str]:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    assert root.find(f"{NS}title") is not None
    return [(t.text or "").strip() for t in root.iter(f"{NS}text")]


def test_line_chart_has_its_labels_and_legend_and_the_same_bytes_again() -> None:
    labels = [f"w{i}" for i in range(26)]
    svg = charts.line_chart(
        "Trust <and> safety",
        labels,
        {"Trust": [3.1] * 26, "Safety": [4.2] * 25 + [4.9]},
        "1-5",
        (1, 5),
    )
    texts = _texts(svg)
    assert "Trust <and> safety" in texts  # escaped in the markup, intact as text
    assert {"Trust", "Safety", "1-5", "1", "5"} <= set(texts)
    assert "w0" in texts and "w24" in texts
    assert svg == charts.line_chart(
        "Trust <and> safety",
        labels,
        {"Trust": [3.1] * 26, "Safety": [4.2] * 25 + [4.9]},
        "1-5",
        (1, 5),
    )


def test_bar_chart_shows_every_label_and_value() -> None:
    svg = charts.bar_chart("Mix", ["Theft", "Motor vehicle theft"], [630, 12])
    assert {"Theft", "Motor vehicle theft", "630", "12"} <= set(_texts(svg))


def test_map_labels_every_district_with_its_value() -> None:
    j = load_jurisdiction("sample")
    values = {d.id: 10 * n for n, d in enumerate(j.districts)}
    texts = _texts(charts.district_map("Districts", j, values))
    for n, d in enumerate(j.districts):
        assert d.name in texts and str(10 * n) in texts
