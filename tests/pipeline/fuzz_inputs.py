"""Malformed raw messages of many shapes, for fuzzing the anonymizer through the real broker.

`malformed_messages(schemas, count, seed)` gives (kind, key, value, headers, shape) tuples, every
one of which the anonymizer must dead-letter: none is a valid event. Shapes:

- random bytes; bytes after the Avro marker; JSON-looking bytes without the JSON header;
- truncated Avro (a valid event cut short) and Avro with trailing bytes;
- an unknown writer fingerprint, or another kind's schema on this kind's topic;
- wrong types and invalid values in JSON (strings for numbers, objects for strings, ...);
- extreme timestamps and numbers written straight into the Avro body (year 1, year 9999, the
  ends of the long range, NaN and infinite coordinates, huge counts and ages);
- invalid UTF-8 inside Avro strings and inside JSON;
- deeply nested JSON; empty values (tombstones); oversized values (over the 1 MiB decode
  limit, and one at the 8 MiB request limit whose dead letter must fall back to a digest).

The generator is deterministic for a seed, so a failing message can be reproduced.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

from fastavro import parse_schema, schemaless_writer

from openbeat.contracts.codec import KIND_SCHEMAS, SINGLE_OBJECT_MAGIC, SchemaStore
from openbeat.contracts.examples import (
    example_engagement,
    example_incident,
    example_report,
    example_survey_response,
)
from openbeat.contracts.json_input import to_json_bytes

Message = tuple[str, bytes | None, bytes | None, list[tuple[str, bytes]], str]
JSON = [("content-type", b"application/json")]
EXAMPLES: dict[str, Callable[[], dict[str, Any]]] = {
    "incident": example_incident,
    "report": example_report,
    "engagement": example_engagement,
}
TIME_FIELDS = {
    "incident": ["reported_at", "occurred_at"],
    "report": ["submitted_at"],
    "engagement": ["starts_at", "ends_at"],
}
LONG_EXTREMES = [-(2**63), 2**63 - 1, -(2**62), 2**62, -62135596800000, 253402300799999]
# A bad value for a field of a valid record, each certainly refused by validation.
EXTREME_VALUES: dict[str, list[tuple[str, Any]]] = {
    "incident": [
        ("latitude", float("nan")),
        ("longitude", float("inf")),
        ("latitude", -1e308),
        ("revision", -(2**31)),
        ("revision", 0),
    ],
    "report": [("latitude", float("-inf")), ("longitude", 1e308)],
    "engagement": [
        ("attendee_count", -(2**31)),
        ("attendee_count", -1),
        ("revision", -(2**31)),
    ],
}


class _Writer:
    """Avro bodies written with the real header but a loosened copy of the writer schema:
    timestamps as plain longs and strings as bytes (the binary layout is the same), so any
    long and any byte string can be put where the real schema would refuse them."""

    def __init__(self, schemas: SchemaStore, kind: str) -> None:
        version = schemas.latest(KIND_SCHEMAS[kind])
        self.header = version.header
        self.loose = parse_schema(_loosen(copy.deepcopy(version.raw)))
        self.full_name = version.full_name
        self.schemas = schemas

    def body(self, record: dict[str, Any]) -> bytes:
        buffer = BytesIO()
        buffer.write(self.header)
        schemaless_writer(buffer, self.loose, _as_loose(record))
        return buffer.getvalue()


def _loosen(schema: Any) -> Any:
    """A type schema with timestamps and dates as plain numbers and strings as bytes."""
    if isinstance(schema, list):
        return [_loosen(s) for s in schema]
    if schema == "string":
        return "bytes"
    if not isinstance(schema, dict):
        return schema
    if schema.get("logicalType") in ("timestamp-millis", "date"):
        return schema["type"]
    kind = schema.get("type")
    if kind == "record":
        fields = [{**f, "type": _loosen(f["type"])} for f in schema["fields"]]
        name = "loose_" + str(schema["name"]).split(".")[-1]
        return {"type": "record", "name": name, "fields": fields}
    if kind == "array":
        return {**schema, "items": _loosen(schema["items"])}
    if kind == "enum":
        return {**schema, "name": "loose_" + str(schema["name"]).split(".")[-1]}
    return {**schema, "type": _loosen(kind)}


def _as_loose(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _as_loose(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_loose(v) for v in value]
    if isinstance(value, str):
        return value.encode()
    if isinstance(value, datetime):
        return int((value - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds() * 1000)
    if hasattr(value, "toordinal"):  # a date: days since 1970-01-01
        return value.toordinal() - 719163
    return value


def malformed_messages(schemas: SchemaStore, count: int, seed: int = 1) -> list[Message]:
    """`count` malformed messages (plus the two oversized ones), shapes in rotation."""
    rng = random.Random(seed)
    writers = {kind: _Writer(schemas, kind) for kind in KIND_SCHEMAS}
    valid = {kind: schemas.encode(KIND_SCHEMAS[kind], EXAMPLES[kind]()) for kind in KIND_SCHEMAS}
    shapes = list(_SHAPES)
    out: list[Message] = []
    for i in range(count):
        kind = rng.choice(list(KIND_SCHEMAS))
        shape = shapes[i % len(shapes)]
        value, headers = _SHAPES[shape](rng, kind, schemas, writers[kind], valid)
        key = rng.choice([None, f"RPD:fuzz-{i}".encode(), rng.randbytes(rng.randint(0, 40))])
        if value is None and key is None:  # Kafka takes no message without key and value
            key = f"RPD:tombstone-{i}".encode()
        out.append((kind, key, value, headers, shape))
    out += list(_oversized(rng))
    return out


def _oversized(rng: random.Random) -> Iterator[Message]:
    # Over the 1 MiB decode limit, and at the 8 MiB request limit (minus framing room).
    yield "incident", b"RPD:big", SINGLE_OBJECT_MAGIC + rng.randbytes(1_500_000), [], "oversized"
    yield "report", b"RPD:huge", b"{" + b" " * (8 * 1024 * 1024 - 4096), JSON, "oversized"


def _random_bytes(rng: random.Random, *_: Any) -> tuple[bytes | None, list]:
    return rng.randbytes(rng.choice([1, 2, 9, 10, 50, 300, 2000])), []


def _after_marker(rng: random.Random, *_: Any) -> tuple[bytes | None, list]:
    return SINGLE_OBJECT_MAGIC + rng.randbytes(rng.randint(0, 400)), []


def _truncated(rng: random.Random, kind: str, _s: Any, _w: Any, valid: dict) -> tuple:
    data = valid[kind]
    return data[: rng.randint(0, len(data) - 1)], []


def _trailing(rng: random.Random, kind: str, _s: Any, _w: Any, valid: dict) -> tuple:
    return valid[kind] + rng.randbytes(rng.randint(1, 20)), []


def _unknown_fingerprint(rng: random.Random, kind: str, _s: Any, _w: Any, valid: dict) -> tuple:
    data = valid[kind]
    return SINGLE_OBJECT_MAGIC + rng.randbytes(8) + data[10:], []


def _wrong_schema(rng: random.Random, kind: str, _s: Any, _w: Any, valid: dict) -> tuple:
    other = rng.choice([k for k in valid if k != kind])
    return valid[other], []


def _json_wrong_types(rng: random.Random, kind: str, *_: Any) -> tuple:
    record = json.loads(to_json_bytes(EXAMPLES[kind]()))
    name = rng.choice(sorted(record))
    record[name] = rng.choice(
        [{"nested": [1, 2]}, [None], "not-a-number", 1.5, -(2**70), True, "xxx"]
    )
    if record == json.loads(to_json_bytes(EXAMPLES[kind]())):
        record[name] = {"nested": True}
    # A wrong type for an optional free-text field could still be accepted as text: make the
    # event certainly invalid as well (every id must be a non-empty string).
    record["agency_id"] = rng.choice([None, 7, "", [], {}])
    return json.dumps(record).encode(), JSON


def _json_extreme_dates(rng: random.Random, kind: str, *_: Any) -> tuple:
    record = json.loads(to_json_bytes(EXAMPLES[kind]()))
    field = rng.choice(TIME_FIELDS[kind])
    record[field] = rng.choice(
        [
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "1899-12-31T23:59:59Z",
            "0001-01-01T00:00:00-12:00",
            rng.choice(LONG_EXTREMES),
            "2024-02-30T00:00:00Z",
            "2024-05-01T25:00:00Z",
        ]
    )
    return json.dumps(record).encode(), JSON


def _avro_extreme_dates(rng: random.Random, kind: str, _s: Any, writer: _Writer, _v: Any) -> tuple:
    record = _as_loose(EXAMPLES[kind]())
    record[rng.choice(TIME_FIELDS[kind])] = rng.choice(LONG_EXTREMES)
    return _raw_body(writer, record), []


def _avro_extreme_numbers(
    rng: random.Random, kind: str, schemas: SchemaStore, _w: Any, _v: Any
) -> tuple:
    if kind == "engagement" and rng.random() < 0.5:
        record = example_survey_response()
        record["survey"]["trust_score"] = rng.choice([2**31 - 1, -(2**31), 0, 6])
    else:
        record = EXAMPLES[kind]()
        name, value = rng.choice(EXTREME_VALUES[kind])
        record[name] = value
    if kind == "incident" and rng.random() < 0.5:
        record["persons"][0]["age"] = rng.choice([2**31 - 1, -1, 200])
        record["latitude"] = float("nan")
    return schemas.encode(KIND_SCHEMAS[kind], record), []


def _avro_invalid_utf8(rng: random.Random, kind: str, _s: Any, writer: _Writer, _v: Any) -> tuple:
    record = _as_loose(EXAMPLES[kind]())
    name = rng.choice([k for k, v in record.items() if isinstance(v, bytes)])
    record[name] = rng.choice([b"\xff\xfe", b"RPD\xc3", b"\xed\xa0\x80", b"ok\x80ok"])
    return _raw_body(writer, record), []


def _json_invalid_utf8(rng: random.Random, kind: str, *_: Any) -> tuple:
    text = to_json_bytes(EXAMPLES[kind]())
    cut = rng.randint(1, len(text) - 2)
    return text[:cut] + rng.choice([b"\xff", b"\xc3\x28", b"\xed\xa0\x80"]) + text[cut:], JSON


def _deep_json(rng: random.Random, *_: Any) -> tuple:
    depth = rng.choice([1000, 10_000, 100_000])
    opener, closer = rng.choice([(b"[", b"]"), (b'{"a":', b"}")])
    return opener * depth + b"1" + closer * depth, JSON


def _not_json(rng: random.Random, kind: str, *_: Any) -> tuple:
    return rng.choice([b"{", b"null", b"[]", b"42", b'"text"', b"{'a': 1}", b"{}"]), JSON


def _json_without_header(rng: random.Random, kind: str, *_: Any) -> tuple:
    return to_json_bytes(EXAMPLES[kind]()), []


def _empty(rng: random.Random, *_: Any) -> tuple:
    return rng.choice([None, b""]), rng.choice([[], JSON])


def _raw_body(writer: _Writer, record: dict[str, Any]) -> bytes:
    return writer.body(record)


_SHAPES: dict[str, Callable[..., tuple[bytes | None, list[tuple[str, bytes]]]]] = {
    "random_bytes": _random_bytes,
    "after_marker": _after_marker,
    "truncated_avro": _truncated,
    "trailing_bytes": _trailing,
    "unknown_fingerprint": _unknown_fingerprint,
    "wrong_schema": _wrong_schema,
    "json_wrong_types": _json_wrong_types,
    "json_extreme_dates": _json_extreme_dates,
    "avro_extreme_dates": _avro_extreme_dates,
    "avro_extreme_numbers": _avro_extreme_numbers,
    "avro_invalid_utf8": _avro_invalid_utf8,
    "json_invalid_utf8": _json_invalid_utf8,
    "deep_json": _deep_json,
    "not_json": _not_json,
    "json_without_header": _json_without_header,
    "empty": _empty,
}
