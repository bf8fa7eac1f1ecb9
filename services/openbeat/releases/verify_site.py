"""`openbeat verify` for the residents' site: links resolve, nothing is finer than the datasets.

The site is built only from the published releases and feeds (site/inputs.py), and this check
holds it to that from the outside: every internal link of every page resolves; every point of
`datasets/incidents/recent.geojson` is the published point of a row of the current `incidents`
release with the same public id and block (never a district-only row, never a field the dataset
does not have); and every block a district page lists is a block that release publishes. Every
page is also part of the PII scan of every published byte (releases/verify.py).
"""

from __future__ import annotations

import html as html_lib
import json
import logging
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from openbeat.releases.documents import PARQUET_FILE, latest_key
from openbeat.site.links import broken_links
from openbeat.store.base import ObjectNotFound, ObjectStore

logger = logging.getLogger(__name__)

GEOJSON_KEY = "datasets/incidents/recent.geojson"
_DISTRICT_PAGE = re.compile(r"^districts/[^/]+\.html$")
_INCIDENT_TABLE = re.compile(r'<table class="incidents">(.*?)</table>', re.S)
_ROW_CELL = re.compile(r'<tr><th scope="row">[^<]*</th><td>([^<]*)</td>')
_MAX = 5

Report = Callable[[str, str], None]


def verify_site(store: ObjectStore, keys: list[str], report: Report) -> None:
    """Add a problem to `report(key, message)` for each way the site breaks its contract."""
    pages = {k: store.get(k).decode("utf-8", errors="replace") for k in keys if k.endswith(".html")}
    if not pages:
        return
    for page, link in broken_links(pages, keys)[:50]:
        report(page, f"broken link {link!r}")
    rows, columns = _incident_rows(store)
    if GEOJSON_KEY in keys:
        _check_geojson(store, rows, columns, report)
    if rows is not None:
        blocks = {html_lib.escape(r["block"]) for r in rows.values() if r.get("block")}
        for key, html in pages.items():
            if _DISTRICT_PAGE.match(key):
                _check_district_page(key, html, blocks, report)


def _incident_rows(store: ObjectStore) -> tuple[dict[str, dict[str, Any]] | None, set[str]]:
    try:
        latest = json.loads(store.get(latest_key("incidents")))
    except ObjectNotFound:
        return None, set()
    with tempfile.TemporaryDirectory(prefix="openbeat-verify-site-") as tmp:
        local = Path(tmp) / "incidents.parquet"
        store.download(f"{latest['release']}{PARQUET_FILE}", local)
        table = pq.read_table(local)
    return {r["public_id"]: r for r in table.to_pylist()}, set(table.schema.names)


def _check_geojson(
    store: ObjectStore,
    rows: dict[str, dict[str, Any]] | None,
    columns: set[str],
    report: Report,
) -> None:
    try:
        doc = json.loads(store.get(GEOJSON_KEY))
    except ValueError as exc:
        report(GEOJSON_KEY, f"not valid JSON: {exc}")
        return
    if doc.get("type") != "FeatureCollection" or "crs" in doc:
        report(GEOJSON_KEY, "not an RFC 7946 FeatureCollection (no crs member allowed)")
        return
    features = doc.get("features") or []
    if features and rows is None:
        report(GEOJSON_KEY, "has points but the incidents dataset has no release")
        return
    problems = 0
    for feature in features:
        props = feature.get("properties") or {}
        row = (rows or {}).get(str(props.get("public_id")))
        lon, lat = (feature.get("geometry") or {}).get("coordinates") or (None, None)
        message = None
        if row is None:
            message = f"point {props.get('public_id')!r} is not a row of the incidents release"
        elif row.get("latitude") is None or row.get("location_precision") == "district":
            message = f"point {props.get('public_id')!r}: the dataset publishes its district only"
        elif (round(row["longitude"], 6), round(row["latitude"], 6)) != (lon, lat):
            message = f"point {props.get('public_id')!r} is not the dataset's point"
        elif props.get("block") != row.get("block") or not set(props) <= columns:
            message = f"point {props.get('public_id')!r}: fields differ from the dataset's"
        if message is not None:
            problems += 1
            if problems <= _MAX:
                report(GEOJSON_KEY, message)
    if problems > _MAX:
        report(GEOJSON_KEY, f"... and {problems - _MAX} more points not in the dataset")


def _check_district_page(key: str, html: str, blocks: set[str], report: Report) -> None:
    """The 'where' cell of a district page's incident rows is a published block or a name."""
    shown = {cell for t in _INCIDENT_TABLE.findall(html) for cell in _ROW_CELL.findall(t)}
    # A cell is a published block, or a district name (no digits: never an address).
    finer = sorted(b for b in shown if b not in blocks and re.search(r"\d", b))
    for block in finer[:_MAX]:
        report(key, f"shows {block!r}, which the incidents dataset does not publish")
