"""Avro single-object encoding of imported records, planned once per schema.

`SchemaStore.encode` hands every record to fastavro's `schemaless_writer`, which looks each
field's type up again, matches every union branch by validating the value against it, and
costs more per record than converting the row did. An import encodes a few hundred thousand
records of one schema whose values `shape.complete_record` has already made exact: str, bool,
int, float, UTC datetime, date, None, lists and dicts. `record_encoder` turns the schema into one
writer per field once and writes those values straight into the message.

The bytes are exactly what `SchemaStore.encode` returns: the same header, and each value
written as fastavro writes it (zig-zag varints, little-endian doubles, UTF-8 strings, arrays as
one counted block and an end marker, the null or value branch of a two-branch union, milliseconds
since 1970 for timestamp-millis, days since 1970 for date). Anything else (another type or
subclass, a naive or non-UTC datetime, a missing field, a number out of range, a message over the
size limit) goes to `SchemaStore.encode` itself, which encodes it or raises its `ContractError`,
so errors are unchanged too. A schema using types not planned here (enums, maps, fixed, bytes,
wider unions) is always encoded by `SchemaStore.encode`.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from openbeat.contracts.codec import SchemaStore

logger = logging.getLogger(__name__)

Writer = Callable[[bytearray, Any], None]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_DAY = date(1970, 1, 1).toordinal()
# Avro int and long ranges (fastavro refuses values outside them).
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_LONG_MIN, _LONG_MAX = -(2**63), 2**63 - 1
# One-byte varints: every zig-zag value below 128 (a string shorter than 64 bytes, a union index).
_BYTE = [bytes([n]) for n in range(128)]
_FALSE, _TRUE = b"\x00", b"\x01"
_END = b"\x00"  # an array's closing empty block; also a zig-zag 0
_pack_double = struct.Struct("<d").pack


class _Unplanned(Exception):
    """A value (or, when planning, a schema type) the writers here do not write."""


# Encoders made so far, by (store identity, record name), the store kept beside them so its id
# is never reused: a worker converts hundreds of chunks with one store and one record.
_ENCODERS: dict[tuple[int, str], tuple[SchemaStore, Callable[[dict[str, Any]], bytes]]] = {}
# A process uses one store; tests load a few dozen.
_ENCODERS_KEPT = 32


def record_encoder(store: SchemaStore, full_name: str) -> Callable[[dict[str, Any]], bytes]:
    """`record -> bytes`, the same as `store.encode(full_name, record)` for every record."""
    known = _ENCODERS.get((id(store), full_name))
    if known is not None:
        return known[1]
    if len(_ENCODERS) >= _ENCODERS_KEPT:
        _ENCODERS.clear()
    encode = _planned(store, full_name)
    _ENCODERS[(id(store), full_name)] = (store, encode)
    return encode


def _planned(store: SchemaStore, full_name: str) -> Callable[[dict[str, Any]], bytes]:
    version = store.latest(full_name)

    def fallback(record: dict[str, Any]) -> bytes:
        return store.encode(full_name, record)

    try:
        write = _writer(version.parsed, {})
    except _Unplanned as exc:
        logger.debug("%s encoded by fastavro: %s", full_name, exc)
        return fallback
    header, limit = version.header, store.max_bytes

    def encode(record: dict[str, Any]) -> bytes:
        out = bytearray(header)
        try:
            write(out, record)
        except Exception:  # _Unplanned, or a value fastavro may refuse: it decides
            return fallback(record)
        if len(out) > limit:
            return fallback(record)  # raises the store's too_large error
        return bytes(out)

    return encode


def _long(value: int) -> bytes:
    """A long as Avro's zig-zag varint."""
    if not _LONG_MIN <= value <= _LONG_MAX:
        raise _Unplanned("long out of range")
    zigzag = (value << 1) ^ (value >> 63)
    if zigzag < 0x80:
        return _BYTE[zigzag]
    out = bytearray()
    while zigzag > 0x7F:
        out.append((zigzag & 0x7F) | 0x80)
        zigzag >>= 7
    out.append(zigzag)
    return bytes(out)


def _writer(avro_type: Any, named: dict[str, Writer]) -> Writer:
    """The writer of one (parsed) schema type; `named` holds the records defined so far."""
    if isinstance(avro_type, list):
        return _union(avro_type, named)
    if isinstance(avro_type, str):
        if avro_type in named:
            return named[avro_type]
        return _primitive(avro_type)
    kind, logical = avro_type.get("type"), avro_type.get("logicalType")
    if kind == "record":
        return _record(avro_type, named)
    if kind == "array":
        return _array(_writer(avro_type["items"], named))
    if kind == "long" and logical == "timestamp-millis":
        return _timestamp_millis
    if kind == "int" and logical == "date":
        return _date
    if logical is None and isinstance(kind, str):
        return _primitive(kind)
    raise _Unplanned(f"type {kind}/{logical}")


def _primitive(name: str) -> Writer:
    writers: dict[str, Writer] = {
        "string": _string,
        "boolean": _boolean,
        "int": _int,
        "long": _long_value,
        "double": _double,
    }
    if name not in writers:
        raise _Unplanned(f"type {name}")
    return writers[name]


def _string(out: bytearray, value: Any) -> None:
    if type(value) is not str:
        raise _Unplanned("not a str")
    data = value.encode()
    size = len(data)
    out += _BYTE[size << 1] if size < 64 else _long(size)
    out += data


def _boolean(out: bytearray, value: Any) -> None:
    if value is True:
        out += _TRUE
    elif value is False:
        out += _FALSE
    else:
        raise _Unplanned("not a bool")


def _int(out: bytearray, value: Any) -> None:
    if type(value) is not int or not _INT_MIN <= value <= _INT_MAX:
        raise _Unplanned("not a 32-bit int")
    out += _long(value)


def _long_value(out: bytearray, value: Any) -> None:
    if type(value) is not int:
        raise _Unplanned("not an int")
    out += _long(value)


def _double(out: bytearray, value: Any) -> None:
    if type(value) is not float:
        raise _Unplanned("not a float")
    out += _pack_double(value)


def _timestamp_millis(out: bytearray, value: Any) -> None:
    if type(value) is not datetime or value.tzinfo is not UTC:
        raise _Unplanned("not a UTC datetime")
    delta = value - _EPOCH
    # fastavro: whole seconds in ms plus int(microseconds / 1000), i.e. truncated milliseconds
    out += _long((delta.days * 86400 + delta.seconds) * 1000 + delta.microseconds // 1000)


def _date(out: bytearray, value: Any) -> None:
    if type(value) is not date:
        raise _Unplanned("not a date")
    out += _long(value.toordinal() - _EPOCH_DAY)


def _union(branches: list[Any], named: dict[str, Writer]) -> Writer:
    """A null-or-value union: a null writes the null branch, any other value the other one
    (fastavro picks the first branch the value validates against: null takes only None)."""
    if len(branches) != 2 or "null" not in branches or branches[0] == branches[1]:
        raise _Unplanned("a union other than null-or-value")
    null_index = _BYTE[branches.index("null") << 1]
    value_index = _BYTE[(1 - branches.index("null")) << 1]
    write = _writer(branches[1 - branches.index("null")], named)

    def union(out: bytearray, value: Any) -> None:
        if value is None:
            out += null_index
        else:
            out += value_index
            write(out, value)

    return union


def _array(write_item: Writer) -> Writer:
    def array(out: bytearray, value: Any) -> None:
        if type(value) is not list:
            raise _Unplanned("not a list")
        if value:
            out += _long(len(value))
            for item in value:
                write_item(out, item)
        out += _END

    return array


def _record(schema: dict[str, Any], named: dict[str, Writer]) -> Writer:
    """A record's writer, generated as one function with each field's code in line.

    Twenty-odd fields written by twenty-odd nested writer calls cost more than the writing;
    the generated function reads each field and runs its type's lines from `_LINES` on it (a
    null-or-value union around them), calling a writer only for lists and nested records.
    """
    space: dict[str, Any] = dict(_SPACE)
    # Placed first so a record reaching itself (through a list of its kind) finds its writer.
    named[schema["name"]] = lambda out, value: space["record"](out, value)
    if "namespace" in schema:
        named[f"{schema['namespace']}.{schema['name']}"] = named[schema["name"]]
    source = [
        "def record(out, value):",
        '    if type(value) is not dict or "-type" in value:',
        "        raise _Unplanned('not a plain dict')",
    ]
    for number, field in enumerate(schema["fields"]):
        source.append(f"    v = value[{field['name']!r}]")
        lines = _inline(field["type"], named, space, f"_write_{number}")
        source.extend(f"    {line}" for line in lines)
    exec(compile("\n".join(source), f"<avro writer of {schema['name']}>", "exec"), space)
    write: Writer = space["record"]
    named[schema["name"]] = write
    return write


# Encoded numbers and UTC timestamps kept by value (ints by value only: bools never get here):
# an import repeats its revisions and times (occurred_at and reported_at from one column, a
# nightly edit time), and a varint of a timestamp is the dearest value to write. As many as
# the field rules keep answers (rules.ANSWERS_KEPT): a full table is emptied and refilled.
_KEPT = 1 << 16
_NUMBERS: dict[int, bytes] = {}
_MOMENTS: dict[datetime, bytes] = {}


def _keep(table: dict[Any, bytes], key: Any, data: bytes) -> bytes:
    if len(table) >= _KEPT:
        table.clear()
    table[key] = data
    return data


# Names the generated writers use.
_SPACE: dict[str, Any] = {
    "_NUMBERS": _NUMBERS,
    "_MOMENTS": _MOMENTS,
    "_keep": _keep,
    "_Unplanned": _Unplanned,
    "_BYTE": _BYTE,
    "_TRUE": _TRUE,
    "_FALSE": _FALSE,
    "_long": _long,
    "_pack_double": _pack_double,
    "_EPOCH": _EPOCH,
    "_EPOCH_DAY": _EPOCH_DAY,
    "UTC": UTC,
    "date": date,
    "datetime": datetime,
}
# The lines writing value `v` of each simple type into `out`, as the writer functions above do.
_LINES: dict[str, list[str]] = {
    "string": [
        "if type(v) is not str:",
        "    raise _Unplanned('not a str')",
        "b = v.encode()",
        "n = len(b)",
        "out += _BYTE[n << 1] if n < 64 else _long(n)",
        "out += b",
    ],
    "boolean": [
        "if v is True:",
        "    out += _TRUE",
        "elif v is False:",
        "    out += _FALSE",
        "else:",
        "    raise _Unplanned('not a bool')",
    ],
    "int": [
        f"if type(v) is not int or not {_INT_MIN} <= v <= {_INT_MAX}:",
        "    raise _Unplanned('not a 32-bit int')",
        "b = _NUMBERS.get(v)",
        "if b is None:",
        "    b = _keep(_NUMBERS, v, _long(v))",
        "out += b",
    ],
    "long": [
        "if type(v) is not int:",
        "    raise _Unplanned('not an int')",
        "b = _NUMBERS.get(v)",
        "if b is None:",
        "    b = _keep(_NUMBERS, v, _long(v))",
        "out += b",
    ],
    "double": [
        "if type(v) is not float:",
        "    raise _Unplanned('not a float')",
        "out += _pack_double(v)",
    ],
    "timestamp-millis": [
        "if type(v) is not datetime or v.tzinfo is not UTC:",
        "    raise _Unplanned('not a UTC datetime')",
        "b = _MOMENTS.get(v)",
        "if b is None:",
        "    d = v - _EPOCH",
        "    b = _long((d.days * 86400 + d.seconds) * 1000 + d.microseconds // 1000)",
        "    b = _keep(_MOMENTS, v, b)",
        "out += b",
    ],
    "date": [
        "if type(v) is not date:",
        "    raise _Unplanned('not a date')",
        "out += _long(v.toordinal() - _EPOCH_DAY)",
    ],
}


def _simple(avro_type: Any, named: dict[str, Writer]) -> str | None:
    """The `_LINES` key of a type, None when it is not one of them."""
    if isinstance(avro_type, str):
        return avro_type if avro_type in _PRIMITIVES and avro_type not in named else None
    if isinstance(avro_type, dict):
        kind, logical = avro_type.get("type"), avro_type.get("logicalType")
        if kind == "long" and logical == "timestamp-millis":
            return "timestamp-millis"
        if kind == "int" and logical == "date":
            return "date"
        if logical is None and kind in _PRIMITIVES:
            return str(kind)
    return None


_PRIMITIVES = ("string", "boolean", "int", "long", "double")


def _inline(
    avro_type: Any, named: dict[str, Writer], space: dict[str, Any], slot: str
) -> list[str]:
    """The lines writing `v` of `avro_type`: in line for a simple type or a null-or-value union
    of one, else a call of the type's writer (kept in `space` under `slot`)."""
    simple = _simple(avro_type, named)
    if simple is not None:
        return _LINES[simple]
    if isinstance(avro_type, list) and len(avro_type) == 2 and "null" in avro_type:
        null = avro_type.index("null")
        inner = _simple(avro_type[1 - null], named)
        if inner is not None:
            return [
                "if v is None:",
                f"    out += {_BYTE[null << 1]!r}",
                "else:",
                f"    out += {_BYTE[(1 - null) << 1]!r}",
                *(f"    {line}" for line in _LINES[inner]),
            ]
    space[slot] = _writer(avro_type, named)
    return [f"{slot}(out, v)"]
