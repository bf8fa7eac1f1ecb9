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
from collections.abc import Callable
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


def _texts(column: pa.ChunkedArray) -> pa.Array:
    """Each value of `column` as JSON text, exactly as `_dumps` writes it.

    Strings without anything to escape are quoted in bulk, integers cast; empty lists need no
    encoder. Every other type is encoded by `_dumps` itself, once per DISTINCT value: 28 days of
    incidents hold a few hundred hours, dates and grid coordinates, not tens of thousands.
    """
    kind = column.type
    values = column.combine_chunks()
    text: pa.Array
    if (
        pa.types.is_string(kind)
        and not pc.any(pc.match_substring_regex(values, _NEEDS_ESCAPE)).as_py()
    ):
        text = pc.binary_join_element_wise('"', values, '"', "")
    elif pa.types.is_integer(kind):
        text = pc.cast(values, pa.string())
    elif pa.types.is_list(kind) or pa.types.is_string(kind):
        if (
            pa.types.is_list(kind)
            and not pc.any(pc.greater(pc.list_value_length(values), 0)).as_py()
        ):
            text = pc.if_else(pc.is_valid(values), "[]", pa.scalar(None, pa.string()))
        else:
            text = pa.array([_dumps(v) for v in values.to_pylist()], pa.string())
    else:
        text = _per_distinct(values, _dumps)
    return pc.fill_null(text, "null")


def _per_distinct(values: pa.Array, encode: Callable[[Any], str]) -> pa.Array:
    """`encode` applied to each distinct value once, spread back over the rows (nulls stay)."""
    encoded = pc.dictionary_encode(values)
    texts = pa.array([encode(v) for v in encoded.dictionary.to_pylist()], pa.string())
    return texts.take(encoded.indices)


def _coordinate(value: float) -> str:
    return _dumps(round(value, 6))


def recent_geojson(inputs: SiteInputs) -> bytes:
    table = inputs.recent
    if table is not None and table.num_rows:
        valid = pc.and_(pc.is_valid(table["latitude"]), pc.is_valid(table["longitude"]))
        table = table.filter(valid)
    if table is None or table.num_rows == 0:
        return b'{"features":[],"type":"FeatureCollection"}\n'
    parts: list[Any] = [
        '{"geometry":{"coordinates":[',
        _per_distinct(table["longitude"].combine_chunks(), _coordinate),
        ",",
        _per_distinct(table["latitude"].combine_chunks(), _coordinate),
        '],"type":"Point"},"id":',
        _texts(table["public_id"]),
        ',"properties":{',
    ]
    for n, name in enumerate(sorted(table.column_names)):
        parts += [("," if n else "") + encode_basestring(name) + ":", _texts(table[name])]
    parts.append('},"type":"Feature"},')  # every feature ends with the comma of the list
    features = pc.binary_join_element_wise(*parts, "")
    # The features' UTF-8 text lies back to back in the array's data buffer: the document is
    # that buffer less its last comma, copied once (no Python string per feature).
    _, offset_buffer, data_buffer = features.buffers()
    offsets = memoryview(offset_buffer).cast("i" if features.type == pa.string() else "q")
    first, last = offsets[features.offset], offsets[features.offset + len(features)]
    data = memoryview(data_buffer)[first : last - 1]
    return b"".join((b'{"features":[', data, b'],"type":"FeatureCollection"}\n'))
