"""Column mappings: how one city's CSV or JSON Lines export becomes openbeat input records.

A mapping is a TOML file, so a new city needs a new file, not new code. Each schema field (dotted
for nested records, e.g. `reporter.name`) gets one rule that says where its value comes from and
how to turn the source text into the field's type:

    kind = "incident"                      # the record kind the mapping produces
    null_values = ["", "N/A"]              # source values that mean "no value"

    [maps.fbi_to_nibrs]                    # shared value maps, referenced by name
    "06" = "23H"

    [fields]
    incident_id = "ID"                     # shorthand for { column = "ID" }
    agency_id = { const = "CPD" }
    occurred_at = { column = "Date", type = "datetime", format = "%m/%d/%Y %I:%M:%S %p" }
    offense_code = { column = "IUCR", map = "iucr_to_nibrs",
                     fallback = { column = "FBI Code", map = "fbi_to_nibrs" } }
    offense_description = { template = "{Primary Type}: {Description}" }

A rule takes exactly one source (`column`, `const` or `template`; a template is empty when any
column it names is empty) and then, in this order:
`regex` (keep the named group `value`, else group 1, else the whole match), `replace` (regex
substitutions in order), `map` (an inline table or the name of a shared map; a value the map
lacks goes to `fallback`, else `unmapped`, else rejects the row), the empty check (an empty value
goes to `fallback`, else `default`, else null) and finally the `type` conversion. Datetimes
without a zone are wall-clock times of the jurisdiction (`timezone = "local"`) or UTC
(`timezone = "utc"`); they always come out as aware UTC datetimes.

This module holds the model and the pure per-value conversion; reading files is `importer`'s job.
"""

from __future__ import annotations

import logging
import math
import re
import tomllib
from collections.abc import Mapping as AnyMapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from openbeat.contracts.jurisdiction import Jurisdiction

logger = logging.getLogger(__name__)

Scalar = str | int | float | bool
FieldType = Literal["string", "int", "float", "bool", "datetime", "date", "list"]
KINDS = ("incident", "report", "engagement")
# `{Column Name}` in a template; column names may hold spaces and punctuation, not braces.
_TEMPLATE_REF = re.compile(r"\{([^{}]+)\}")
# What `bool` fields accept unless a rule lists its own words (compared case-insensitively).
_TRUE_WORDS = ("true", "t", "yes", "y", "1")
_FALSE_WORDS = ("false", "f", "no", "n", "0")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the file and the key."""


class RowError(ValueError):
    """One source row that cannot be converted: a machine-readable code, the field, a sentence."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(f"Field {field}: {message}." if field else f"{message}.")
        self.code = code
        self.field = field
        self.message = message


class FieldRule(BaseModel):
    """Where one field's value comes from and how it is converted."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str | None = None
    const: Scalar | list[str] | None = None
    template: str | None = None
    type: FieldType = "string"
    format: str | None = Field(
        None, description="strptime format for datetime/date; 'iso', 'epoch_s' or 'epoch_ms'"
    )
    timezone: Literal["local", "utc"] = "local"
    regex: str | None = None
    replace: list[tuple[str, str]] = Field(default_factory=list)
    map: dict[str, Scalar] | str | None = None
    ignore_case: bool = False
    unmapped: Scalar | None = None
    default: Scalar | list[str] | None = None
    fallback: FieldRule | None = None
    optional: bool = Field(False, description="the column may be absent from the file")
    split: str = ","
    true_values: tuple[str, ...] = _TRUE_WORDS
    false_values: tuple[str, ...] = _FALSE_WORDS

    @model_validator(mode="after")
    def _one_source(self) -> FieldRule:
        sources = [s for s in ("column", "const", "template") if getattr(self, s) is not None]
        if len(sources) != 1:
            raise ValueError("give exactly one of column, const or template")
        for pattern in [self.regex or "", *(p for p, _ in self.replace)]:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad regular expression {pattern!r}: {exc}") from exc
        if self.template is not None and not _TEMPLATE_REF.search(self.template):
            raise ValueError("a template names at least one {Column}; use const for a constant")
        return self

    def columns(self) -> list[tuple[str, bool]]:
        """The source columns this rule reads, each with whether it may be absent."""
        own: list[tuple[str, bool]] = []
        if self.column is not None:
            own.append((self.column, self.optional))
        if self.template is not None:
            own.extend((c, self.optional) for c in _TEMPLATE_REF.findall(self.template))
        return own + (self.fallback.columns() if self.fallback else [])


class Mapping(BaseModel):
    """A whole mapping file: the kind it produces, shared maps and one rule per field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["incident", "report", "engagement"]
    description: str = ""
    format: Literal["csv", "jsonl"] | None = None
    null_values: tuple[str, ...] = ("",)
    maps: dict[str, dict[str, Scalar]] = Field(default_factory=dict)
    fields: dict[str, FieldRule] = Field(min_length=1)
    source: str = Field("<mapping>", exclude=True, description="file it was loaded from")

    @field_validator("fields", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: {"column": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _maps_exist(self) -> Mapping:
        for name, rule in self.fields.items():
            current: FieldRule | None = rule
            while current is not None:
                if isinstance(current.map, str) and current.map not in self.maps:
                    known = ", ".join(sorted(self.maps)) or "none"
                    raise ValueError(
                        f"fields.{name}: map {current.map!r} is not defined under [maps] "
                        f"(defined: {known})"
                    )
                current = current.fallback
        return self

    def required_columns(self) -> dict[str, str]:
        """Column -> the first field naming it, for every column that must be in the header."""
        needed: dict[str, str] = {}
        for name, rule in self.fields.items():
            for column, optional in rule.columns():
                if not optional:
                    needed.setdefault(column, name)
        return needed


def load_mapping(path: str | Path) -> Mapping:
    """Read and validate a mapping file; any problem is one `MappingError` naming file and key."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MappingError(f"mapping file {path} not found; pass an existing --mapping") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise MappingError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return Mapping.model_validate({**raw, "source": str(path)})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"] if not str(p).startswith("function-after"))
        message = str(first["msg"]).removeprefix("Value error, ")
        if not where:  # a whole-file check; its message starts with the key it is about
            raise MappingError(f"{path}: key {message}") from exc
        raise MappingError(f"{path}: key {where}: {message}") from exc


def apply_rule(
    rule: FieldRule, row: AnyMapping[str, Any], mapping: Mapping, zone: Jurisdiction, field: str
) -> Any:
    """The typed value of `field` for one source row (None when empty); raises RowError."""
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
                raise RowError("unmapped_value", field, f"no mapping for value {value!r}")
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


def _source_value(rule: FieldRule, row: AnyMapping[str, Any], mapping: Mapping) -> Any:
    if rule.const is not None:
        return rule.const
    if rule.template is not None:
        parts = {c: _cell(row, c) for c in _TEMPLATE_REF.findall(rule.template)}
        if any(_is_empty(v, mapping) for v in parts.values()):
            return None  # "{Street 1} & {Street 2}" with a side missing is no intersection
        texts = {c: str(v).strip() for c, v in parts.items()}
        return _TEMPLATE_REF.sub(lambda m: texts[m.group(1)], rule.template).strip()
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
        try:
            if rule.format is None or rule.format == "iso":
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            else:
                moment = datetime.strptime(text, rule.format)
        except ValueError:
            wanted = rule.format or "ISO 8601"
            raise RowError("invalid_timestamp", field, f"{text!r} is not a {wanted} time") from None
    if moment.tzinfo is None:
        if rule.timezone == "utc":
            return moment.replace(tzinfo=UTC)
        return zone.to_utc(moment)
    return moment.astimezone(UTC)


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
