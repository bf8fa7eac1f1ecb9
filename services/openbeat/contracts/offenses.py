"""The NIBRS offense-code table (services/openbeat/data/offense_codes.toml), loaded and validated.

Validation rejects unknown codes, the anonymizer maps a code to its public `category` and decides
from `sensitive` whether a location may be shown, and alert rules select categories. The table is
data, not code: edit the TOML file, not this module.

An incident may have several offenses (raw incident v3 `offenses`; older versions carry one
`offense_code`). `incident_offenses` is the one reading of "the offenses of an incident" and
`OffenseTable.primary` the one choice of the offense an incident is published and counted under:
the most serious by a fixed order, so it never depends on the order rows came in (see
`OffenseTable.seriousness`).
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from openbeat.paths import DATA_DIR

logger = logging.getLogger(__name__)

OFFENSE_CODES_FILE = DATA_DIR / "offense_codes.toml"

# NIBRS codes are three characters: digits and upper-case letters (09A, 120, 90Z).
OFFENSE_CODE_PATTERN = r"^[0-9]{2}[0-9A-Z]$"
# Public category labels: lower-case words, because they are published and used in feed titles.
CATEGORY_PATTERN = r"^[a-z][a-z ]{1,39}$"
# Seriousness of the NIBRS "crime against" classes: persons before property before society
# (then offenses that are not crimes). Inside a class, the order of the offense table file.
CRIME_AGAINST_ORDER = ("person", "property", "society", "not_a_crime")


class OffenseTableError(ValueError):
    """An offense-code file that cannot be used; the message names the file and the field."""


class Offense(BaseModel):
    """One NIBRS offense."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=OFFENSE_CODE_PATTERN)
    name: str = Field(min_length=1)
    group: Literal["A", "B"]
    crime_against: Literal["person", "property", "society", "not_a_crime"]
    category: str = Field(pattern=CATEGORY_PATTERN)
    sensitive: bool
    retired: bool = False


class OffenseTable(BaseModel):
    """All offenses, looked up by code."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    offenses: tuple[Offense, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> OffenseTable:
        codes = [o.code for o in self.offenses]
        dupes = sorted({c for c in codes if codes.count(c) > 1})
        if dupes:
            raise ValueError(f"duplicate offense codes: {', '.join(dupes)}")
        return self

    @cached_property
    def _by_code(self) -> dict[str, Offense]:
        return {o.code: o for o in self.offenses}

    @cached_property
    def codes(self) -> frozenset[str]:
        return frozenset(self._by_code)

    @cached_property
    def categories(self) -> frozenset[str]:
        return frozenset(o.category for o in self.offenses)

    @cached_property
    def sensitive_codes(self) -> frozenset[str]:
        return frozenset(o.code for o in self.offenses if o.sensitive)

    @cached_property
    def _rank(self) -> dict[str, tuple[int, int]]:
        return {
            o.code: (CRIME_AGAINST_ORDER.index(o.crime_against), position)
            for position, o in enumerate(self.offenses)
        }

    def seriousness(self, code: str) -> tuple[int, int]:
        """Sort key, most serious first: the crime-against class (persons, property, society,
        not a crime), then the offense's position in the table file (the NIBRS manual's order:
        Group A before Group B, murder before kidnapping before rape before assault, ...).
        Unknown codes sort last."""
        return self._rank.get(code, (len(CRIME_AGAINST_ORDER), len(self.offenses)))

    def by_seriousness(self, codes: Iterable[str]) -> list[str]:
        """The distinct codes, most serious first (a total order: input order never matters)."""
        return sorted(set(codes), key=lambda c: (self.seriousness(c), c))

    def primary(self, codes: Iterable[str]) -> Offense:
        """The offense an incident is published and counted under: its most serious one."""
        ordered = self.by_seriousness(codes)
        if not ordered or ordered[0] not in self._by_code:
            raise KeyError(f"no known offense code among {ordered!r}")
        return self._by_code[ordered[0]]

    def get(self, code: str) -> Offense | None:
        """The offense for a code; codes are matched exactly (validation rejects '13a')."""
        return self._by_code.get(code)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[Offense]:  # type: ignore[override]
        return iter(self.offenses)

    def __len__(self) -> int:
        return len(self.offenses)


def incident_offenses(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every offense of a raw incident, each {code, description, completion}.

    Version 3 lists them in `offenses`; versions 1 and 2 have one `offense_code`, read as one
    offense. A v3 record that also sets `offense_code` gets it as one more offense (unless listed
    already), so no field an agency filled is ever ignored when deciding sensitivity.
    """
    offenses = [dict(o) for o in record.get("offenses") or ()]
    code = record.get("offense_code")
    if code is not None and all(o.get("code") != code for o in offenses):
        offenses.append(
            {"code": code, "description": record.get("offense_description"), "completion": None}
        )
    return offenses


def load_offense_table(path: Path | None = None) -> OffenseTable:
    """Load and validate the offense table (default: the shipped data/offense_codes.toml)."""
    path = OFFENSE_CODES_FILE if path is None else Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise OffenseTableError(f"offense-code file {path} not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise OffenseTableError(f"{path}: cannot read the file: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise OffenseTableError(f"{path}: not valid TOML: {exc}") from exc
    try:
        table = OffenseTable.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        code = _code_at(raw, first["loc"])
        which = f" (offense {code})" if code else ""
        raise OffenseTableError(f"{path}: field {where}{which}: {first['msg']}") from exc
    logger.debug("loaded %d offense codes from %s", len(table), path)
    return table


def _code_at(raw: object, loc: tuple[int | str, ...]) -> str | None:
    """The code of the entry an error points into, so the message names the offense."""
    if len(loc) >= 2 and loc[0] == "offenses" and isinstance(loc[1], int) and isinstance(raw, dict):
        entries = raw.get("offenses")
        if (
            isinstance(entries, list)
            and loc[1] < len(entries)
            and isinstance(entries[loc[1]], dict)
        ):
            code = entries[loc[1]].get("code")
            return str(code) if code is not None else None
    return None
