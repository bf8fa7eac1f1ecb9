"""Column mappings: how one city's CSV or JSON Lines export becomes openbeat input records.

A mapping is a TOML file, so a new city needs a new file, not new code (every key is explained,
with examples, in docs/mapping.md). Each schema field (dotted for nested records and lists of
records, e.g. `reporter.name`, `offenses.code`) gets one rule that says where its value comes
from and how to turn the source text into the field's type:

    kind = "incident"                      # the record kind the mapping produces
    null_values = ["", "N/A"]              # source values that mean "no value"

    [maps.fbi_to_nibrs]                    # shared value maps, referenced by name
    "06" = "23H"

    [fields]
    incident_id = "ID"                     # shorthand for { column = "ID" }
    agency_id = { const = "CPD" }
    occurred_at = { column = "Date", type = "datetime", format = "%m/%d/%Y %I:%M:%S %p" }
    "offenses.code" = { column = "IUCR", map = "iucr_to_nibrs" }

    [group_by]                             # rows sharing these columns are one incident
    columns = ["Incident Number"]
    combine = { occurred_at = "min", domestic = "any" }

    [[skip]]                               # rows skipped on purpose, counted by name
    name = "non_criminal"
    column = "Incident Category"
    values = ["Non-Criminal"]

A rule takes exactly one source (`column`, `const` or `template`) and then, in this order:
`regex`, `replace`, `map` (a value the map lacks goes to `fallback`, else `unmapped`, else rejects
the row), the empty check (`fallback`, else `default`, else null) and the `type` conversion (see
`openbeat.emit.values`).

This module holds the model and its loading; conversion is `values`, grouping `grouping`, reading
files `importer`.
"""

from __future__ import annotations

import codecs
import logging
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

logger = logging.getLogger(__name__)

Scalar = str | int | float | bool
FieldType = Literal["string", "int", "float", "bool", "datetime", "date", "list", "revision"]
Combine = Literal["first", "min", "max", "any", "all", "collect"]
KINDS = ("incident", "report", "engagement")
# `{Column Name}` in a template; column names may hold spaces and punctuation, not braces.
TEMPLATE_REF = re.compile(r"\{([^{}]+)\}")
# What `bool` fields accept unless a rule lists its own words (compared case-insensitively).
_TRUE_WORDS = ("true", "t", "yes", "y", "1")
_FALSE_WORDS = ("false", "f", "no", "n", "0")


class MappingError(ValueError):
    """A mapping file that cannot be used; the message names the file and the key."""


class RowError(ValueError):
    """One source row that cannot be converted: a machine-readable code, the field, a sentence.

    `value` is the source value a map lacked (code `unmapped_value`), for the dry run's list of
    values to map next.
    """

    def __init__(self, code: str, field: str, message: str, value: str | None = None) -> None:
        super().__init__(f"Field {field}: {message}." if field else f"{message}.")
        self.code = code
        self.field = field
        self.message = message
        self.value = value


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
    ambiguous: Literal["earlier", "later", "reject"] = "earlier"
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
            _check_regex(pattern)
        if self.template is not None and not TEMPLATE_REF.search(self.template):
            raise ValueError("a template names at least one {Column}; use const for a constant")
        return self

    def columns(self) -> list[tuple[str, bool]]:
        """The source columns this rule reads, each with whether it may be absent."""
        own: list[tuple[str, bool]] = []
        if self.column is not None:
            own.append((self.column, self.optional))
        if self.template is not None:
            own.extend((c, self.optional) for c in TEMPLATE_REF.findall(self.template))
        return own + (self.fallback.columns() if self.fallback else [])


class GroupBy(BaseModel):
    """Rows with the same values in `columns` are one record, wherever they are in the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    columns: tuple[str, ...] = Field(min_length=1)
    # field -> how the rows' values become one; unlisted fields take the first non-empty value,
    # lists (offenses, persons) are collected.
    combine: dict[str, Combine] = Field(default_factory=dict)


class SkipRule(BaseModel):
    """Rows whose `column` is one of `values` (or matches `matches`) are skipped, by name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    column: str
    values: tuple[str, ...] = ()
    matches: str | None = None
    ignore_case: bool = False

    @model_validator(mode="after")
    def _one_condition(self) -> SkipRule:
        if bool(self.values) == (self.matches is not None):
            raise ValueError(f"skip rule {self.name!r}: give exactly one of values or matches")
        if self.matches is not None:
            _check_regex(self.matches)
        return self

    def applies(self, cell: Any) -> bool:
        text = "" if cell is None else str(cell).strip()
        if self.matches is not None:
            flags = re.IGNORECASE if self.ignore_case else 0
            return re.search(self.matches, text, flags) is not None
        if self.ignore_case:
            return text.casefold() in {v.casefold() for v in self.values}
        return text in self.values


class Mapping(BaseModel):
    """A whole mapping file: the kind it produces, shared maps and one rule per field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["incident", "report", "engagement"]
    description: str = ""
    format: Literal["csv", "jsonl"] | None = None
    encoding: str = "utf-8-sig"
    null_values: tuple[str, ...] = ("",)
    maps: dict[str, dict[str, Scalar]] = Field(default_factory=dict)
    fields: dict[str, FieldRule] = Field(min_length=1)
    group_by: GroupBy | None = None
    skip: tuple[SkipRule, ...] = ()
    source: str = Field("<mapping>", exclude=True, description="file it was loaded from")

    @field_validator("fields", mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: {"column": v} if isinstance(v, str) else v for k, v in value.items()}
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        try:
            codecs.lookup(value)
        except LookupError:
            raise ValueError(f"unknown text encoding {value!r} (e.g. utf-8, latin-1)") from None
        return value

    @model_validator(mode="after")
    def _references_exist(self) -> Mapping:
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
        names = [rule.name for rule in self.skip]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"skip: rule name(s) {', '.join(dupes)} used twice")
        if self.group_by is not None:
            parents = {f.split(".", 1)[0] for f in self.fields}
            unknown = sorted(set(self.group_by.combine) - set(self.fields) - parents)
            if unknown:
                raise ValueError(
                    f"group_by.combine: {', '.join(unknown)} is not a field of this mapping"
                )
        return self

    def required_columns(self) -> dict[str, str]:
        """Column -> the first key naming it, for every column that must be in the header."""
        needed: dict[str, str] = {}
        for name, rule in self.fields.items():
            for column, optional in rule.columns():
                if not optional:
                    needed.setdefault(column, f"fields.{name}")
        for column in self.group_by.columns if self.group_by else ():
            needed.setdefault(column, "group_by.columns")
        for skip in self.skip:
            needed.setdefault(skip.column, f"skip {skip.name}")
        return needed


def _check_regex(pattern: str) -> None:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"bad regular expression {pattern!r}: {exc}") from exc


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
