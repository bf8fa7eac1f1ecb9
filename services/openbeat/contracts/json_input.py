"""JSON input: events sent with header `content-type: application/json` (SPEC 3).

`decode_json` validates a JSON object against the current (reader) version of a record schema and
returns exactly the dict `SchemaStore.decode` returns for the same event: every reader field
present, defaults filled, tz-aware UTC `datetime` for timestamps (millisecond precision, as Avro
timestamp-millis stores them), `datetime.date` for dates. Downstream code never needs to know
which wire format an event came in.

Accepted JSON forms:
- timestamps: ISO-8601 strings with an explicit offset (`Z`, `+00:00`; other offsets are converted
  to UTC; no offset is `timestamp_not_utc`) or epoch milliseconds as an integer;
- dates: `YYYY-MM-DD` strings or days since 1970-01-01 as an integer;
- unions with null: the plain value or null (not Avro's `{"string": ...}` wrapping);
- unknown fields are ignored, absent optional fields take the schema default.
"""

from __future__ import annotations

import json
import math
import re
import struct
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from openbeat.contracts.codec import SchemaStore
from openbeat.contracts.errors import ContractError

JSON_CONTENT_TYPE = "application/json"

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DATE = date(1970, 1, 1)
_INT_RANGES = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
# A time of day is required: "2024-05-01" alone is a date, not an instant.
_TIMESTAMP_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
_DATE_SHAPE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PRIMITIVES = frozenset({"null", "boolean", "int", "long", "float", "double", "bytes", "string"})


class _FieldError(ContractError):
    """A ContractError that remembers its field path, so unions can refine the message."""

    def __init__(self, code: str, field: str, detail: str) -> None:
        super().__init__(code, detail)
        self.field = field


def decode_json(data: bytes | None, full_name: str, store: SchemaStore) -> dict[str, Any]:
    """Validate a JSON event against the newest `full_name` schema; ContractError on any problem."""
    if not data:
        raise ContractError("json_invalid", "the message is empty (no value bytes)")
    if len(data) > store.max_bytes:
        raise ContractError(
            "too_large", f"the message is {len(data)} bytes, over the {store.max_bytes}-byte limit"
        )
    try:
        text = bytes(data).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ContractError(
            "invalid_utf8", f"the JSON message is not valid UTF-8 (byte {exc.start})"
        ) from exc
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError is a ValueError
        raise ContractError("json_invalid", f"the message is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise ContractError(
            "json_not_object",
            f"the JSON message is {_json_kind(value)}; expected an object with the fields of "
            f"{full_name}",
        )
    schema = store.latest(full_name).parsed
    converter = _Converter(schema.get("__named_schemas", {}))
    record: dict[str, Any] = converter.record(schema, value, "")
    return record


def is_json(headers: Iterable[tuple[str, bytes | None]] | None) -> bool:
    """True when Kafka headers declare `content-type: application/json` (parameters allowed)."""
    for key, raw in headers or ():
        if key.lower() == "content-type" and raw is not None:
            mime = raw.decode("utf-8", errors="replace").split(";", 1)[0].strip().lower()
            return mime == JSON_CONTENT_TYPE
    return False


def decode_event(
    value: bytes | None,
    headers: Iterable[tuple[str, bytes | None]] | None,
    full_name: str,
    store: SchemaStore,
) -> dict[str, Any]:
    """Decode a raw-topic message in either wire format into the current record shape."""
    if is_json(headers):
        return decode_json(value, full_name, store)
    return store.decode(value, expected_full_name=full_name).record


def to_json_bytes(record: dict[str, Any]) -> bytes:
    """The JSON form `decode_json` accepts, for a record in decoded shape (CLI, tests)."""
    return json.dumps(
        record, default=_json_default, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode("utf-8")


# -- JSON parsing helpers ------------------------------------------------------------------


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not a JSON number")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number {text[:20]} is out of range")
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError(f"naive datetime {value.isoformat()} has no UTC offset")
        return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("latin-1")  # Avro's JSON encoding of bytes
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _field_name(path: str) -> str:
    return path or "the message"


# -- schema-driven conversion --------------------------------------------------------------


class _Converter:
    """Walks a fastavro-parsed schema and a JSON value together, producing decoded-shape data."""

    def __init__(self, named: dict[str, Any]) -> None:
        self.named = named

    def _resolve(self, schema: Any) -> Any:
        if isinstance(schema, str) and schema not in _PRIMITIVES:
            return self.named[schema]
        return schema

    def expected(self, schema: Any) -> str:
        schema = self._resolve(schema)
        if isinstance(schema, list):
            labels = [self.expected(b) for b in schema if b != "null"]
            text = " or ".join(labels)
            return text + " or null" if "null" in schema else text
        if isinstance(schema, str):
            return _PRIMITIVE_LABELS[schema]
        logical = schema.get("logicalType")
        if logical in ("timestamp-millis", "timestamp-micros"):
            return "an ISO-8601 timestamp with a UTC offset (or epoch milliseconds)"
        if logical == "date":
            return "a YYYY-MM-DD date"
        kind = schema["type"]
        if kind == "record":
            return "an object"
        if kind in ("array", "map"):
            return "an array" if kind == "array" else "an object"
        if kind == "enum":
            return "one of " + ", ".join(schema["symbols"])
        if kind == "fixed":
            return f"a string of {schema['size']} bytes"
        return _PRIMITIVE_LABELS.get(kind, kind)

    def wrong_type(self, schema: Any, value: Any, path: str) -> _FieldError:
        return _FieldError(
            "wrong_type",
            path,
            f"field {_field_name(path)} is {_json_kind(value)}; expected {self.expected(schema)}",
        )

    def convert(self, schema: Any, value: Any, path: str) -> Any:
        schema = self._resolve(schema)
        if isinstance(schema, list):
            return self.union(schema, value, path)
        if isinstance(schema, str):
            return self.primitive(schema, value, path)
        logical = schema.get("logicalType")
        kind = schema["type"]
        if logical in ("timestamp-millis", "timestamp-micros") and kind == "long":
            return self.timestamp(value, path, millis=logical == "timestamp-millis")
        if logical == "date" and kind == "int":
            return self.date(value, path)
        if kind == "record":
            return self.record(schema, value, path)
        if kind == "array":
            if not isinstance(value, list):
                raise self.wrong_type(schema, value, path)
            return [self.convert(schema["items"], v, f"{path}[{i}]") for i, v in enumerate(value)]
        if kind == "map":
            if not isinstance(value, dict):
                raise self.wrong_type(schema, value, path)
            return {k: self.convert(schema["values"], v, f"{path}.{k}") for k, v in value.items()}
        if kind == "enum":
            if not isinstance(value, str) or value not in schema["symbols"]:
                raise self.wrong_type(schema, value, path)
            return value
        if kind == "fixed":
            raw = self.primitive("bytes", value, path)
            if len(raw) != schema["size"]:
                raise self.wrong_type(schema, value, path)
            return raw
        return self.primitive(kind, value, path)

    def union(self, branches: list[Any], value: Any, path: str) -> Any:
        if value is None:
            if "null" in branches:
                return None
            raise self.wrong_type(branches, value, path)
        candidates = [b for b in branches if b != "null"]
        for branch in candidates:
            try:
                return self.convert(branch, value, path)
            except _FieldError as exc:
                # A deeper problem (a nested field) or a specific one (timestamp without offset)
                # is more useful than "wrong type" when only one branch could apply.
                if len(candidates) == 1 and (exc.field != path or exc.code != "wrong_type"):
                    raise
        raise self.wrong_type(branches, value, path)

    def record(self, schema: dict[str, Any], value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.wrong_type(schema, value, path)
        out: dict[str, Any] = {}
        for field in schema["fields"]:
            name = field["name"]
            field_path = f"{path}.{name}" if path else name
            if name in value:
                out[name] = self.convert(field["type"], value[name], field_path)
            elif "default" in field:
                out[name] = self.default(field["type"], field["default"], field_path)
            else:
                raise _FieldError(
                    "missing_field",
                    field_path,
                    f"required field {field_path} is missing "
                    f"(expected {self.expected(field['type'])})",
                )
        return out

    def default(self, schema: Any, value: Any, path: str) -> Any:
        schema = self._resolve(schema)
        if isinstance(schema, list):  # a union's default is for its first branch
            return None if schema[0] == "null" else self.convert(schema[0], value, path)
        return self.convert(schema, json.loads(json.dumps(value)), path)  # a private copy

    def primitive(self, kind: str, value: Any, path: str) -> Any:
        if kind == "null":
            if value is not None:
                raise self.wrong_type(kind, value, path)
            return None
        if kind == "boolean":
            if not isinstance(value, bool):
                raise self.wrong_type(kind, value, path)
            return value
        if kind in _INT_RANGES:
            low, high = _INT_RANGES[kind]
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise self.wrong_type(kind, value, path)
            return value
        if kind in ("float", "double"):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise self.wrong_type(kind, value, path)
            try:
                number = float(value)
                if kind == "float":  # what Avro's 32-bit float would give back
                    number = struct.unpack("<f", struct.pack("<f", number))[0]
            except (OverflowError, struct.error):
                raise self.wrong_type(kind, value, path) from None
            return number
        if kind == "string":
            if not isinstance(value, str):
                raise self.wrong_type(kind, value, path)
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                raise _FieldError(
                    "invalid_utf8",
                    path,
                    f"field {_field_name(path)} holds an unpaired surrogate, which is not "
                    "valid UTF-8",
                ) from None
            return value
        if kind == "bytes":
            if not isinstance(value, str):
                raise self.wrong_type(kind, value, path)
            try:
                return value.encode("latin-1")
            except UnicodeEncodeError:
                raise self.wrong_type(kind, value, path) from None
        raise self.wrong_type(kind, value, path)

    def timestamp(self, value: Any, path: str, *, millis: bool) -> datetime:
        name = _field_name(path)
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise self.wrong_type({"type": "long", "logicalType": "timestamp-millis"}, value, path)
        if isinstance(value, int):
            try:
                return _EPOCH + (
                    timedelta(milliseconds=value) if millis else timedelta(microseconds=value)
                )
            except OverflowError:
                raise _FieldError(
                    "invalid_timestamp", path, f"field {name} is out of the supported time range"
                ) from None
        if not _TIMESTAMP_SHAPE.match(value):
            raise _FieldError(
                "invalid_timestamp",
                path,
                f"field {name} is {value[:40]!r}; expected an ISO-8601 timestamp such as "
                "2024-05-01T14:30:00Z",
            )
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            raise _FieldError(
                "invalid_timestamp",
                path,
                f"field {name} is {value[:40]!r}, not a valid ISO-8601 timestamp",
            ) from None
        if moment.tzinfo is None:
            raise _FieldError(
                "timestamp_not_utc",
                path,
                f"field {name} is {value[:40]!r} without a UTC offset; add Z or +00:00 (or the "
                "local offset) so the instant is unambiguous",
            )
        try:
            moment = moment.astimezone(UTC)
        except OverflowError:
            raise _FieldError(
                "invalid_timestamp", path, f"field {name} is out of the supported time range"
            ) from None
        if millis:
            moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000)
        return moment

    def date(self, value: Any, path: str) -> date:
        name = _field_name(path)
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise self.wrong_type({"type": "int", "logicalType": "date"}, value, path)
        try:
            if isinstance(value, int):
                return _EPOCH_DATE + timedelta(days=value)
            if _DATE_SHAPE.match(value):
                return date.fromisoformat(value)
        except (ValueError, OverflowError):
            pass
        raise _FieldError(
            "invalid_date", path, f"field {name} is {str(value)[:40]!r}; expected YYYY-MM-DD"
        )


_PRIMITIVE_LABELS = {
    "null": "null",
    "boolean": "true or false",
    "int": "a whole number (32-bit)",
    "long": "a whole number",
    "float": "a number",
    "double": "a number",
    "bytes": "a string",
    "string": "a string",
}
