"""`openbeat verify` holds the site to its contract: links resolve, nothing finer than the data.
Each attack below (a page the site builder would never write) is caught."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from openbeat.releases import verify_tree
from openbeat.store import LocalStore


@pytest.fixture
def copy(site_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "root"
    shutil.copytree(site_root, root)
    return root


def _site_problems(root: Path) -> list[str]:
    report = verify_tree(LocalStore(root))
    return [line for line in report.lines() if "html" in line or "geojson" in line]


def test_the_published_site_verifies(site_root: Path) -> None:
    assert _site_problems(site_root) == []


def test_a_broken_link_is_reported(copy: Path) -> None:
    page = copy / "districts" / "D1.html"
    page.write_text(
        page.read_text().replace("</main>", '<a href="../meetings/gone.html">x</a></main>')
    )
    assert any("broken link '../meetings/gone.html'" in p for p in _site_problems(copy))


def test_an_exact_point_on_the_map_data_is_reported(copy: Path) -> None:
    path = copy / "datasets" / "incidents" / "recent.geojson"
    doc = json.loads(path.read_text())
    lon, lat = doc["features"][0]["geometry"]["coordinates"]
    doc["features"][0]["geometry"]["coordinates"] = [lon + 0.000731, lat - 0.000412]
    path.write_text(json.dumps(doc))
    assert any("is not the dataset's point" in p for p in _site_problems(copy))


def test_a_district_only_incident_placed_on_the_map_is_reported(copy: Path) -> None:
    import pyarrow.parquet as pq

    release = next(copy.glob("datasets/incidents/releases/*/data/part-00000.parquet"))
    sensitive = next(
        r for r in pq.read_table(release).to_pylist() if r["location_precision"] == "district"
    )
    path = copy / "datasets" / "incidents" / "recent.geojson"
    doc = json.loads(path.read_text())
    feature = json.loads(json.dumps(doc["features"][0]))
    feature["properties"]["public_id"] = sensitive["public_id"]
    doc["features"].append(feature)
    path.write_text(json.dumps(doc))
    assert any("publishes its district only" in p for p in _site_problems(copy))


def test_an_exact_address_on_a_district_page_is_reported(copy: Path) -> None:
    page = copy / "districts" / "D1.html"
    html = page.read_text()
    start = html.index('<table class="incidents">')
    cell = html.index("<td>", start)
    end = html.index("</td>", cell)
    page.write_text(html[: cell + 4] + "1234 W MAIN ST" + html[end:])
    assert any("'1234 W MAIN ST'" in p for p in _site_problems(copy))
