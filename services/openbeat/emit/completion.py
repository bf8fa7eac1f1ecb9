"""`shape.complete_record` generated once per kind as straight-line code, for the per-row loop.

Completing a record walks the two dozen fields of the kind's schema: take the value, else null,
else the field's default, then type-check it. Walked by a general loop this costs as much as
mapping the row did. `completer(kind)` writes that walk out once as one Python function with
each field's steps in line, decided from the schema when the function is made:

- a value of the exact type a converted row holds (str, bool, in-range int, float, UTC datetime,
  an empty list) is taken as it is; anything else goes to `shape._value` (the general check,
  which converts what it may and raises the RowError naming the field);
- a missing or null value becomes null for a nullable field whose default is null, a fresh
  empty list for a list defaulting to one, the checked default for an immutable default, and
  otherwise goes through `shape`'s own rules (`_fill`).

The records and errors are exactly `shape.complete_record`'s (tests compare the two).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

from openbeat.emit.shape import _branches, _default, _value, raw_schema

logger = logging.getLogger(__name__)

Completer = Callable[[dict[str, Any]], dict[str, Any]]

# The condition under which a non-null value of each simple type is returned as it is (what
# `shape._value` returns for it unchanged: float(x) of a float and astimezone(UTC) of a UTC
# datetime are the value itself).
_AS_IT_IS = {
    "string": "type(v) is str",
    "boolean": "v is True or v is False",
    "int": "type(v) is int and -2147483648 <= v <= 2147483647",
    "long": "type(v) is int",
    "double": "type(v) is float",
    "float": "type(v) is float",
    "timestamp-millis": "type(v) is datetime and v.tzinfo is UTC",
    "timestamp-micros": "type(v) is datetime and v.tzinfo is UTC",
    "array": "type(v) is list and not v",  # an empty list; a fresh one is returned
}
_IMMUTABLE = (str, bool, int, float)
_PRIMITIVES = ("string", "boolean", "int", "long", "double", "float")


@cache
def completer(kind: str) -> Completer:
    """`values -> record`, the same as `shape.complete_record(kind, values)`."""
    space: dict[str, Any] = {"UTC": UTC, "datetime": datetime}
    source = ["def complete(values):", "    get = values.get", "    record = {}"]
    for number, field in enumerate(raw_schema(kind)["fields"]):
        source.extend(f"    {line}" for line in _field_lines(number, field, space))
    source.append("    return record")
    exec(compile("\n".join(source), f"<completion of {kind}>", "exec"), space)
    complete: Completer = space["complete"]
    return complete


def _field_lines(number: int, field: dict[str, Any], space: dict[str, Any]) -> list[str]:
    name, avro_type = field["name"], field["type"]
    nullable, inner = _branches(avro_type)
    check = space[f"_check_{number}"] = _general(avro_type, name)
    space[f"_fill_{number}"] = _fill(field, nullable, check)
    simple = _simple(inner)
    lines = [f"v = get({name!r})", "if v is None:"]
    default = field.get("default")
    if nullable and default is None:
        lines.append("    pass")  # null, named or not: the default is null too
    elif not nullable and simple == "array" and type(default) is list and not default:
        lines.append("    v = []")
    elif not nullable and "default" in field and type(default) in _IMMUTABLE:
        try:
            space[f"_default_{number}"] = check(default)
            lines.append(f"    v = _default_{number}")
        except Exception:  # a default the check refuses: raise as complete_record does
            lines.append(f"    v = _fill_{number}(values)")
    else:
        lines.append(f"    v = _fill_{number}(values)")
    if simple == "array":
        lines += [f"elif {_AS_IT_IS['array']}:", "    v = []", "else:"]
    elif simple is not None:
        lines.append(f"elif not ({_AS_IT_IS[simple]}):")
    else:
        lines.append("else:")
    lines += [f"    v = _check_{number}(v)", f"record[{name!r}] = v"]
    return lines


def _simple(inner: Any) -> str | None:
    """The `_AS_IT_IS` key of a (non-null) field type, None when it has none."""
    if isinstance(inner, str):
        return inner if inner in _PRIMITIVES else None
    if isinstance(inner, dict):
        kind, logical = inner.get("type"), inner.get("logicalType")
        if logical in ("timestamp-millis", "timestamp-micros") and kind == "long":
            return str(logical)
        if kind == "array":
            return "array"
        if logical is None and kind in _AS_IT_IS and kind != "array":
            return str(kind)
    return None


def _general(avro_type: Any, where: str) -> Callable[[Any], Any]:
    def check(value: Any) -> Any:
        return _value(avro_type, value, where)

    return check


def _fill(
    field: dict[str, Any], nullable: bool, check: Callable[[Any], Any]
) -> Callable[[dict[str, Any]], Any]:
    """A missing or null value of `field` as `shape.complete_record` fills and checks it."""
    name, has_default, default = field["name"], "default" in field, field.get("default")

    def fill(values: dict[str, Any]) -> Any:
        if nullable and name in values:
            return None
        return check(_default(default) if has_default else None)

    return fill
