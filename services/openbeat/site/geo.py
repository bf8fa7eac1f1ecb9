"""`datasets/incidents/recent.geojson`: the public incident points of the last 28 days.

RFC 7946: a FeatureCollection of Point features in WGS 84 longitude, latitude order (no `crs`
member), each feature's properties the incident's row exactly as the `incidents` dataset
publishes it (dates and times as ISO 8601 text). Incidents published at district precision have
no point and are left out: the map data is never finer than the dataset.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from openbeat.site.inputs import SiteInputs

GEOJSON_CONTENT_TYPE = "application/geo+json"


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def recent_geojson(inputs: SiteInputs) -> bytes:
    features = []
    for row in inputs.recent:
        lat, lon = row.get("latitude"), row.get("longitude")
        if lat is None or lon is None:
            continue
        features.append(
            {
                "type": "Feature",
                "id": row["public_id"],
                "geometry": {"type": "Point", "coordinates": [round(lon, 6), round(lat, 6)]},
                "properties": {k: _value(v) for k, v in row.items()},
            }
        )
    doc = {"type": "FeatureCollection", "features": features}
    return (
        json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":")) + "\n"
    ).encode()
