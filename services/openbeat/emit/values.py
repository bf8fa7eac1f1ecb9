"""Turning one source row's cells into typed field values, by the rules of a mapping.

Pure functions: `apply_rule` runs one `FieldRule` on one row (regex, replace, map with fallback,
empty check, type conversion) and `convert_value` does the type conversion alone. Datetimes
without a zone are wall-clock times of the jurisdiction (`timezone = "local"`) or UTC; an
ambiguous local time (the repeated hour of the autumn DST change) is resolved by the rule's
`ambiguous` choice (earlier, later or reject). A `revision` value is a timestamp turned into a
revision number: whole seconds since 2000-01-01 UTC, so a later edit time is a higher revision.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Mapping as AnyMapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from openbeat.contracts.jurisdiction import AmbiguousTimeError, Jurisdiction
from openbeat.emit import timeparse
from openbeat.emit.mapping import TEMPLATE_REF, FieldRule, Mapping, RowError, Scalar

logger = logging.getLogger(__name__)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Revisions from a timestamp count seconds from here: an Avro int lasts until 2068.
REVISION_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def apply_rule(
    rule: FieldRule, row: AnyMapping[str, Any], mapping: Mapping, zone: Jurisdiction, field: str
) -> Any:
    """The typed value of `field` for one source row (None when empty); raises RowError."""
    if _is_plain(rule):  # most of a mapping: a text column as it is; the general path below
        cell = row.get(rule.column)  # type: ignore[arg-type]
        if type(cell) is str:
            text = cell.strip()
            if text and text not in mapping.null_values:
                return text
    value = _source_value(rule, row, mapping)
    if isinstance(value, str) and value:
        value = _reshape_text(rule, value, field)
    if rule.map is not None and not _is_empty(value, mapping):
        table = mapping.maps[rule.map] if isinstance(rule.map, str) else rule.map
        found = _lookup(table, value, rule.ignore_case)
        if found is _MISSING:
            if rule.fallback is not None:
                return apply_rule(rule.fallback, row, mapping, zone, field)
            if rule.unmapped is None:
                raise RowError(
                    "unmapped_value", field, f"no mapping for value {value!r}", str(value)
                )
            found = rule.unmapped
        value = found
    if _is_empty(value, mapping):
        if rule.fallback is not None:
            return apply_rule(rule.fallback, row, mapping, zone, field)
        value = rule.default
        if value is None:
            return None
    return convert_value(rule, value, zone, field)


_MISSING = object()
# Per rule (by id, the rule kept beside the answer so the id is never reused): whether it is a
# text column used as it is (no regex, replace, map or fallback), the common case worth a
# shortcut that returns exactly what the general path would.
_PLAIN: dict[int, tuple[FieldRule, bool]] = {}


def _is_plain(rule: FieldRule) -> bool:
    known = _PLAIN.get(id(rule))
    if known is None:
        plain = (
            rule.column is not None
            and rule.type == "string"
            and rule.regex is None
            and not rule.replace
            and rule.map is None
            and rule.fallback is None
        )
        known = _PLAIN[id(rule)] = (rule, plain)
    return known[1]


def _source_value(rule: FieldRule, row: AnyMapping[str, Any], mapping: Mapping) -> Any:
    if rule.const is not None:
        return rule.const
    if rule.template is not None:
        parts = {c: _cell(row, c) for c in TEMPLATE_REF.findall(rule.template)}
        if any(_is_empty(v, mapping) for v in parts.values()):
            return None  # "{Street 1} & {Street 2}" with a side missing is no intersection
        texts = {c: str(v).strip() for c, v in parts.items()}
        return TEMPLATE_REF.sub(lambda m: texts[m.group(1)], rule.template).strip()
    value = _cell(row, rule.column or "")
    return value.strip() if isinstance(value, str) else value


def _cell(row: AnyMapping[str, Any], column: str) -> Any:
    """A column's value; dotted names reach into nested JSON objects when no key matches."""
    if column in row:
        return row[column]
    current: Any = row
    for part in column.split("."):
        if not isinstance(current, AnyMapping) or part not in current:
            return None
        current = current[part]
    return current


def _is_empty(value: Any, mapping: Mapping) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in mapping.null_values)


def _reshape_text(rule: FieldRule, value: str, field: str) -> str:
    if rule.regex is not None:
        match = re.search(rule.regex, value)
        if match is None:
            raise RowError("bad_value", field, f"{value!r} does not match {rule.regex!r}")
        groups = match.groupdict()
        if "value" in groups:
            value = groups["value"] or ""
        else:
            value = match.group(1) if match.re.groups else match.group(0)
    for pattern, replacement in rule.replace:
        value = re.sub(pattern, replacement, value)
    return value


def _lookup(table: dict[str, Scalar], value: Any, ignore_case: bool) -> Any:
    key = str(value).lower() if isinstance(value, bool) else str(value)
    if key in table:
        return table[key]
    if ignore_case:
        folded = key.casefold()
        for k, v in table.items():
            if k.casefold() == folded:
                return v
    return _MISSING


def convert_value(rule: FieldRule, value: Any, zone: Jurisdiction, field: str) -> Any:
    """Turn a source value (text, or a JSON number/bool/list) into the rule's type."""
    kind = rule.type
    if kind == "string":
        if isinstance(value, (list, dict)):
            raise RowError("wrong_type", field, f"expected text, got {type(value).__name__}")
        return str(value).lower() if isinstance(value, bool) else str(value)
    if kind == "int":
        return _to_int(value, field)
    if kind == "float":
        return _to_float(value, field)
    if kind == "bool":
        return _to_bool(rule, value, field)
    if kind == "datetime":
        return _to_datetime(rule, value, zone, field)
    if kind == "revision":
        return to_revision(_to_datetime(rule, value, zone, field), field)
    if kind == "date":
        return _to_date(rule, value, field)
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    return [part.strip() for part in str(value).split(rule.split) if part.strip()]


def _to_int(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise RowError("wrong_type", field, f"expected a whole number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    try:
        return int(str(value).strip().replace(",", ""))
    except ValueError:
        raise RowError("wrong_type", field, f"expected a whole number, got {value!r}") from None


def _to_float(value: Any, field: str) -> float:
    if isinstance(value, bool):
        raise RowError("wrong_type", field, f"expected a number, got {value!r}")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise RowError("wrong_type", field, f"expected a number, got {value!r}") from None
    if not math.isfinite(number):
        raise RowError("wrong_type", field, f"expected a finite number, got {value!r}")
    return number


def _to_bool(rule: FieldRule, value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).strip().casefold()
    if word in (w.casefold() for w in rule.true_values):
        return True
    if word in (w.casefold() for w in rule.false_values):
        return False
    raise RowError("wrong_type", field, f"expected true or false, got {value!r}")


def _to_datetime(rule: FieldRule, value: Any, zone: Jurisdiction, field: str) -> datetime:
    if isinstance(value, datetime):
        moment = value
    elif rule.format in ("epoch_s", "epoch_ms"):
        seconds = _to_float(value, field) / (1000 if rule.format == "epoch_ms" else 1)
        return _EPOCH + timedelta(seconds=seconds)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        # JSON numbers without a format are Avro's own timestamp-millis.
        return _EPOCH + timedelta(milliseconds=value)
    else:
        text = str(value).strip()
        key = (text, rule.format, rule.timezone, rule.ambiguous, zone.timezone)
        known = _TIMES.get(key)
        if known is None:
            if len(_TIMES) >= _TIMES_KEPT:
                _TIMES.clear()
            known = _TIMES[key] = _text_time(rule, text, zone, field)
        return known
    return _aware(rule, moment, zone, field)


# Text times already converted, by (text, format, zone rule, ambiguous choice, zone): an export
# repeats its times (every midnight, a nightly edit time, occurred and reported from one
# column), and parsing plus the zone lookup is the dearest step of a row. Failures are not kept.
_TIMES: dict[tuple[str, str | None, str, str, str], datetime] = {}
_TIMES_KEPT = 1 << 16


def _text_time(rule: FieldRule, text: str, zone: Jurisdiction, field: str) -> datetime:
    try:
        moment = _parse_time(text, rule.format)
    except ValueError:
        wanted = rule.format or "ISO 8601"
        raise RowError("invalid_timestamp", field, f"{text!r} is not a {wanted} time") from None
    return _aware(rule, moment, zone, field)


def _aware(rule: FieldRule, moment: datetime, zone: Jurisdiction, field: str) -> datetime:
    if moment.tzinfo is None:
        if rule.timezone == "utc":
            return moment.replace(tzinfo=UTC)
        try:
            return zone.to_utc(moment, ambiguous=rule.ambiguous)
        except AmbiguousTimeError as exc:
            raise RowError("ambiguous_time", field, str(exc)) from None
    return moment.astimezone(UTC)


def _parse_time(text: str, fmt: str | None) -> datetime:
    """Text to datetime (ValueError when it is not one)."""
    if fmt is None or fmt == "iso":
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    return timeparse.parse(text, fmt)  # datetime.strptime, quicker for an export's formats


def to_revision(moment: datetime, field: str) -> int:
    """An edit time as a revision number: whole seconds since 2000-01-01 UTC."""
    seconds = int((moment - REVISION_EPOCH).total_seconds())
    if not 1 <= seconds < 2**31:
        raise RowError("bad_revision", field, f"{moment.isoformat()} is not between 2000 and 2068")
    return seconds


def _to_date(rule: FieldRule, value: Any, field: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return date(1970, 1, 1) + timedelta(days=value)  # Avro's date: days since the epoch
    text = str(value).strip()
    try:
        if rule.format is None or rule.format == "iso":
            return date.fromisoformat(text[:10])
        return datetime.strptime(text, rule.format).date()
    except ValueError:
        wanted = rule.format or "ISO 8601"
        raise RowError("invalid_date", field, f"{text!r} is not a {wanted} date") from None
