"""`datasets/incidents/recent.geojson`: the public incident points of the last 28 days.

RFC 7946: a FeatureCollection of Point features in WGS 84 longitude, latitude order (no `crs`
member), each feature's properties the incident's row exactly as the `incidents` dataset
publishes it (dates and times as ISO 8601 text). Incidents published at district precision have
no point and are left out: the map data is never finer than the dataset.

A busy city has tens of thousands of points in 28 days, so the document is written column by
column from the Arrow table (each column's values encoded to JSON text once, in bulk) instead of
one Python dict per row through `json.dumps`: the bytes are the same as
`json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))` (tests/site pin
them), at a fraction of the cost.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime
from json.encoder import encode_basestring  # the encoder json.dumps uses with ensure_ascii off
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from openbeat.site.inputs import SiteInputs

GEOJSON_CONTENT_TYPE = "application/geo+json"


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _dumps(value: Any) -> str:
    return json.dumps(_value(value), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


_NEEDS_ESCAPE = r'["\\\x00-\x1f]'  # what json.dumps escapes when ensure_ascii is off
_UTC = ("UTC", "+00:00", "Etc/UTC")


def _texts(column: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """Each value of `column` as JSON text, exactly as `json.dumps` writes it after `_value`.

    The common types are encoded in bulk with Arrow compute; anything unusual (a string that
    needs escaping, sub-second times, other zones, non-empty lists) takes Python's own encoder.
    """
    kind = column.type
    text: pa.ChunkedArray | pa.Array | None = None
    if (
        pa.types.is_string(kind)
        and not pc.any(pc.match_substring_regex(column, _NEEDS_ESCAPE)).as_py()
    ):
        text = _quote(column)
    elif pa.types.is_integer(kind):
        text = pc.cast(column, pa.string())
    elif pa.types.is_floating(kind):
        text = _floats(column.to_pylist())
    elif pa.types.is_date(kind):
        text = _quote(pc.strftime(column, format="%Y-%m-%d"))
    elif pa.types.is_timestamp(kind) and kind.tz in (None, *_UTC):
        try:
            seconds = pc.cast(column, pa.timestamp("s", kind.tz))  # refuses to drop a fraction
        except pa.ArrowInvalid:
            seconds = None
        if seconds is not None:
            suffix = "" if kind.tz is None else "Z"
            text = _quote(pc.strftime(seconds, format="%Y-%m-%dT%H:%M:%S" + suffix))
    elif pa.types.is_list(kind) and not pc.any(pc.greater(pc.list_value_length(column), 0)).as_py():
        text = pc.if_else(pc.is_valid(column), "[]", pa.scalar(None, pa.string()))
    if text is None:
        text = pa.array([_dumps(v) for v in column.to_pylist()], pa.string())
    return pc.fill_null(text, "null")


def _floats(values: list[float | None], digits: int | None = None) -> pa.Array:
    """Floats as json.dumps writes them (`float.__repr__`, NaN as NaN), optionally rounded."""
    if digits is not None:
        values = [None if v is None else round(v, digits) for v in values]
    return pa.array(
        [
            None if v is None else float.__repr__(v) if math.isfinite(v) else json.dumps(v)
            for v in values
        ],
        pa.string(),
    )


def _quote(values: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    return pc.binary_join_element_wise('"', values, '"', "")


def recent_geojson(inputs: SiteInputs) -> bytes:
    table = inputs.recent
    if table is not None and table.num_rows:
        valid = pc.and_(pc.is_valid(table["latitude"]), pc.is_valid(table["longitude"]))
        table = table.filter(valid)
    if table is None or table.num_rows == 0:
        return b'{"features":[],"type":"FeatureCollection"}\n'
    parts: list[Any] = [
        '{"geometry":{"coordinates":[',
        _floats(table["longitude"].to_pylist(), 6),
        ",",
        _floats(table["latitude"].to_pylist(), 6),
        '],"type":"Point"},"id":',
        _texts(table["public_id"]),
        ',"properties":{',
    ]
    for n, name in enumerate(sorted(table.column_names)):
        parts += [("," if n else "") + encode_basestring(name) + ":", _texts(table[name])]
    parts.append('},"type":"Feature"}')
    features = pc.binary_join_element_wise(*parts, "").to_pylist()
    return ('{"features":[' + ",".join(features) + '],"type":"FeatureCollection"}\n').encode()
