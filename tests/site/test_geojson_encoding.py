"""The recent-incidents GeoJSON is written column by column from Arrow (site/geo.py); its bytes
must equal `json.dumps` of the plain document for ANY row values, not only the common ones the
fast paths cover: strings that need escaping (quotes, backslashes, control characters, non-ASCII),
NaN coordinates, sub-second and zone-less times, null and non-empty lists, missing points.

The reference below is the builder's former row-by-row code, kept here as the specification.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.site.geo import recent_geojson
from openbeat.site.inputs import SiteInputs

SCHEMA = pa.schema(
    [
        ("public_id", pa.string()),
        ("block", pa.string()),
        ("offense_count", pa.int32()),
        ("offense_codes", pa.list_(pa.string())),
        ("occurred_date", pa.date32()),
        ("occurred_hour_local", pa.timestamp("ms")),
        ("occurred_hour", pa.timestamp("ms", tz="UTC")),
        ("latitude", pa.float64()),
        ("longitude", pa.float64()),
    ]
)


def _reference(rows: list[dict[str, Any]]) -> bytes:
    def value(v: Any) -> Any:
        if isinstance(v, datetime):
            return v.isoformat().replace("+00:00", "Z")
        if isinstance(v, date):
            return v.isoformat()
        return v

    features = [
        {
            "type": "Feature",
            "id": row["public_id"],
            "geometry": {
                "type": "Point",
                "coordinates": [round(row["longitude"], 6), round(row["latitude"], 6)],
            },
            "properties": {k: value(v) for k, v in row.items()},
        }
        for row in rows
        if row.get("latitude") is not None and row.get("longitude") is not None
    ]
    doc = {"type": "FeatureCollection", "features": features}
    return (
        json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
    ).encode()


_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=12)
_HOUR = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2040, 1, 1)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000)
)
_ROW = st.fixed_dictionaries(
    {
        "public_id": st.text(alphabet="0123456789abcdef", min_size=1, max_size=32),
        "block": st.none() | _TEXT,
        "offense_count": st.integers(-(2**31), 2**31 - 1),
        "offense_codes": st.none() | st.lists(_TEXT, max_size=3),
        "occurred_date": st.dates(),
        "occurred_hour_local": st.none() | _HOUR,
        "occurred_hour": st.none() | _HOUR.map(lambda d: d.replace(tzinfo=UTC)),
        "latitude": st.none() | st.floats(-90, 90),
        "longitude": st.none() | st.floats(-180, 180) | st.sampled_from([math.nan, -0.0, 0.0]),
    }
)


def _inputs(rows: list[dict[str, Any]]) -> SiteInputs:
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    return SiteInputs(jurisdiction=load_jurisdiction("sample"), k=5, datasets=(), recent=table)


@settings(max_examples=150, deadline=None)
@given(st.lists(_ROW, max_size=6))
def test_column_wise_geojson_is_json_dumps_of_the_rows(rows: list[dict[str, Any]]) -> None:
    assert recent_geojson(_inputs(rows)) == _reference(rows)


def test_the_fast_paths_give_json_dumps_bytes() -> None:
    hour = datetime(2026, 3, 8, 8, tzinfo=UTC)
    rows = [
        {
            "public_id": f"{n:032x}",
            "block": "01XX W MAIN ST",
            "offense_count": n,
            "offense_codes": [],
            "occurred_date": date(2026, 3, 1) + timedelta(days=n),
            "occurred_hour_local": hour.replace(tzinfo=None) - timedelta(hours=6),
            "occurred_hour": hour + timedelta(hours=n),
            "latitude": 41.48125 + n * 0.00225,
            "longitude": -88.28125,
        }
        for n in range(50)
    ]
    rows[3]["latitude"] = None  # district precision: no point, left out
    assert recent_geojson(_inputs(rows)) == _reference(rows)
    assert recent_geojson(_inputs([])) == _reference([])
