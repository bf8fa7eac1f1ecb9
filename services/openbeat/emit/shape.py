"""The Avro shape of input records, for imports: defaults, nesting and type checks.

An imported row must come out exactly as a producer would emit it, so the current raw schema of
each kind (the highest `schemas/raw/<kind>.vN.avsc`) decides which fields exist, which may be
null, which have defaults and what Python type each holds (aware UTC `datetime` for
timestamp-millis, `date` for date, lists for arrays, dicts for records). A mismatch is a
`RowError` naming the field, so the importer can reject the row with a reason.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from openbeat.emit.mapping import RowError
from openbeat.paths import SCHEMAS_DIR

logger = logging.getLogger(__name__)

_VERSION = re.compile(r"\.v(\d+)\.avsc$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@cache
def raw_schema(kind: str) -> dict[str, Any]:
    """The newest raw schema of `kind` (incident, report or engagement) as parsed JSON."""
    candidates = sorted(
        (int(m.group(1)), p)
        for p in (SCHEMAS_DIR / "raw").glob(f"{kind}.v*.avsc")
        if (m := _VERSION.search(p.name))
    )
    if not candidates:
        raise LookupError(f"no schema {SCHEMAS_DIR / 'raw'}/{kind}.v*.avsc")
    schema: dict[str, Any] = json.loads(candidates[-1][1].read_text(encoding="utf-8"))
    return schema


# (nullable, non-null type) of the union types met so far, by id: a row's check looks each field
# type up instead of scanning it. The type object is kept beside its answer, so its id is never
# reused by another object.
_UNIONS: dict[int, tuple[Any, tuple[bool, Any]]] = {}
# Per record schema (by id, schema kept alike): its field names and (name, type, has default,
# default) per field, in order.
_FIELDS: dict[int, tuple[Any, frozenset[str], list[tuple[str, Any, bool, Any]]]] = {}


def _branches(avro_type: Any) -> tuple[bool, Any]:
    """(nullable, the non-null type) of a field type."""
    if isinstance(avro_type, list):
        known = _UNIONS.get(id(avro_type))
        if known is not None:
            return known[1]
        answer = _union(avro_type)
        _UNIONS[id(avro_type)] = (avro_type, answer)
        return answer
    return False, avro_type


def _union(avro_type: list[Any]) -> tuple[bool, Any]:
    others = [t for t in avro_type if t != "null"]
    return "null" in avro_type, others[0] if others else "null"


def required_fields(kind: str) -> list[str]:
    """Top-level fields that have no default and are not nullable: a mapping must set them."""
    out = []
    for field in raw_schema(kind)["fields"]:
        nullable, _ = _branches(field["type"])
        if "default" not in field and not nullable:
            out.append(field["name"])
    return out


def _sub_record(avro_type: Any) -> tuple[str, dict[str, Any]] | None:
    """("record" | "array", the record schema) for a nested record or a list of records."""
    _, inner = _branches(avro_type)
    if isinstance(inner, dict) and inner.get("type") == "record":
        return "record", inner
    if isinstance(inner, dict) and inner.get("type") == "array":
        items = inner["items"]
        if isinstance(items, dict) and items.get("type") == "record":
            return "array", items
    return None


def field_names(kind: str) -> list[str]:
    """Every settable field, fields of nested records and record lists dotted (`reporter.name`,
    `offenses.code`)."""
    names = []
    for field in raw_schema(kind)["fields"]:
        names.append(field["name"])
        sub = _sub_record(field["type"])
        if sub is not None:
            names.extend(f"{field['name']}.{part['name']}" for part in sub[1]["fields"])
    return names


def list_fields(kind: str) -> frozenset[str]:
    """Top-level fields holding lists (their rows' values are collected when rows are grouped)."""
    out = set()
    for field in raw_schema(kind)["fields"]:
        _, inner = _branches(field["type"])
        if isinstance(inner, dict) and inner.get("type") == "array":
            out.add(field["name"])
    return frozenset(out)


def nest_fields(kind: str, flat: dict[str, Any]) -> dict[str, Any]:
    """Mapped values with dotted keys gathered into their parent field.

    A nested record whose mapped parts are all null becomes null itself (an anonymous report has
    no reporter, not a reporter of nulls); a list of records (`offenses.code`, ...) becomes a
    list of that one record, or an empty list when all its parts are null.
    """
    parts: dict[str, dict[str, Any]] = {}
    out: dict[str, Any] = {}
    for key, value in flat.items():
        if "." in key:
            parent, child = key.split(".", 1)
            parts.setdefault(parent, {})[child] = value
        else:
            out[key] = value
    if not parts:
        return out
    types = {f["name"]: f["type"] for f in raw_schema(kind)["fields"]}
    for parent, values in parts.items():
        empty = all(v is None for v in values.values())
        sub = _sub_record(types.get(parent))
        if sub is not None and sub[0] == "array":
            out[parent] = [] if empty else [values]
        else:
            out[parent] = None if empty else values
    return out


def build_record(kind: str, flat: dict[str, Any]) -> dict[str, Any]:
    """A full record from mapped values (dotted keys for nested parts) and schema defaults."""
    return complete_record(kind, nest_fields(kind, flat))


def complete_record(kind: str, values: dict[str, Any]) -> dict[str, Any]:
    """A full, type-checked record from (nested) values: absent or null fields take defaults.

    The reference for `completion.completer(kind)`, which the importer runs per row.
    """
    record: dict[str, Any] = {}
    for field in raw_schema(kind)["fields"]:
        name = field["name"]
        if values.get(name) is not None:
            record[name] = values[name]
        elif name in values and _branches(field["type"])[0]:
            record[name] = None
        elif "default" in field:
            record[name] = _default(field["default"])
        else:
            record[name] = None  # check_shape names it as missing unless it is nullable
    return check_shape(kind, record)


def check_shape(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    """The record with nested defaults filled in; RowError on a missing or mistyped field."""
    return _record(raw_schema(kind), record, "")


def _fields(schema: dict[str, Any]) -> tuple[frozenset[str], list[tuple[str, Any, bool, Any]]]:
    known = _FIELDS.get(id(schema))
    if known is None:
        fields = [
            (f["name"], f["type"], "default" in f, f.get("default")) for f in schema["fields"]
        ]
        known = (schema, frozenset(f[0] for f in fields), fields)
        _FIELDS[id(schema)] = known
    return known[1], known[2]


def _default(value: Any) -> Any:
    """A schema default for one record: containers copied (never shared between records)."""
    if type(value) is list and not value:
        return []  # the common default, a deepcopy's result at a fraction of its cost
    return copy.deepcopy(value) if isinstance(value, (list, dict)) else value


def _record(schema: dict[str, Any], value: Any, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RowError("wrong_type", path or schema["name"], "expected an object")
    known, fields = _fields(schema)
    if not known.issuperset(value):
        extra = sorted(set(value) - known)
        where = f"{path}.{extra[0]}" if path else extra[0]
        raise RowError("unknown_field", where, f"not a field of {schema['name']}")
    out = {}
    for name, avro_type, has_default, default in fields:
        where = f"{path}.{name}" if path else name
        if name in value:
            item = value[name]
        elif has_default:
            item = _default(default)
        else:
            raise RowError("missing_field", where, "required but absent")
        # _value rebuilds records and lists, so the result shares no containers with the input.
        out[name] = _value(avro_type, item, where)
    return out


def _value(avro_type: Any, value: Any, where: str) -> Any:
    nullable, inner = _branches(avro_type)
    if value is None:
        if nullable:
            return None
        raise RowError("missing_field", where, "required but empty")
    if isinstance(inner, dict):
        kind = inner.get("type")
        if kind == "record":
            return _record(inner, value, where)
        if kind == "array":
            if not isinstance(value, list):
                raise RowError("wrong_type", where, "expected a list")
            return [_value(inner["items"], v, f"{where}[{i}]") for i, v in enumerate(value)]
        logical = inner.get("logicalType")
        if logical in ("timestamp-millis", "timestamp-micros"):
            return _timestamp(value, where)
        if logical == "date":
            return _date(value, where)
        inner = kind
    return _primitive(inner, value, where)


def _timestamp(value: Any, where: str) -> datetime:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise RowError("wrong_type", where, "timestamp without a time zone")
        return value.astimezone(UTC)
    if isinstance(value, int) and not isinstance(value, bool):
        return _EPOCH + timedelta(milliseconds=value)
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise RowError(
                "invalid_timestamp", where, f"{value!r} is not an ISO 8601 time"
            ) from None
        if moment.tzinfo is None:
            raise RowError("invalid_timestamp", where, f"{value!r} has no UTC offset")
        return moment.astimezone(UTC)
    raise RowError("wrong_type", where, f"expected a timestamp, got {type(value).__name__}")


def _date(value: Any, where: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return date(1970, 1, 1) + timedelta(days=value)
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise RowError("invalid_date", where, f"{value!r} is not an ISO 8601 date") from None
    raise RowError("wrong_type", where, f"expected a date, got {type(value).__name__}")


def _primitive(avro_type: Any, value: Any, where: str) -> Any:
    if avro_type == "string":
        if isinstance(value, str):
            return value
    elif avro_type == "boolean":
        if isinstance(value, bool):
            return value
    elif avro_type in ("int", "long"):
        if isinstance(value, int) and not isinstance(value, bool):
            if avro_type == "int" and not -(2**31) <= value < 2**31:
                raise RowError("wrong_type", where, f"{value} does not fit a 32-bit int")
            return value
    elif avro_type in ("double", "float"):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    else:
        return value
    wanted = {"string": "text", "boolean": "true or false", "double": "a number"}.get(
        str(avro_type), "a whole number"
    )
    raise RowError("wrong_type", where, f"expected {wanted}, got {value!r}")
