"""A deployment's city: name, time zone, bounding box and districts, loaded from one TOML file.

A jurisdiction may ship district boundaries as GeoJSON beside its TOML file (see
contracts/districts.py); imports use them to find the district of a row that names none. It ships
its name registry (`names/<file stem>.toml` beside it, or the file its `names` key gives): the
partner organisations and venues that may be published by name (privacy/names.py).

Validation, imports (local time to UTC), anonymization (grid origin, district fallback) and
object keys (district ids) all rely on it, so it is validated strictly at start-up.
"""

from __future__ import annotations

import logging
import tomllib
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from openbeat.contracts.districts import BoundariesError, DistrictBoundaries, load_boundaries
from openbeat.paths import JURISDICTIONS_DIR
from openbeat.privacy.names import NameRegistry, NameRegistryError, load_name_registry

logger = logging.getLogger(__name__)

# District ids become parts of object keys (feeds/districts/<id>.rss), so they are restricted to
# characters that are safe in a URL path segment and a file name on every platform.
DISTRICT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"


class JurisdictionError(ValueError):
    """A jurisdiction file that cannot be used; the message names the file and the field."""


class AmbiguousTimeError(ValueError):
    """A local wall-clock time that happens twice (autumn DST change) and no choice was made."""


class BoundingBox(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    min_lat: float = Field(ge=-90, le=90)
    max_lat: float = Field(ge=-90, le=90)
    min_lon: float = Field(ge=-180, le=180)
    max_lon: float = Field(ge=-180, le=180)

    @model_validator(mode="after")
    def _ordered(self) -> BoundingBox:
        if self.min_lat >= self.max_lat or self.min_lon >= self.max_lon:
            raise ValueError("bbox needs min_lat < max_lat and min_lon < max_lon")
        return self

    def contains(self, lat: float, lon: float) -> bool:
        return self.min_lat <= lat <= self.max_lat and self.min_lon <= lon <= self.max_lon


class District(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=DISTRICT_ID_PATTERN)
    name: str = Field(min_length=1)
    centroid: tuple[float, float] | None = None


class Jurisdiction(BaseModel):
    """One city. `districts` is the closed list of district ids events may name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=DISTRICT_ID_PATTERN)
    name: str
    timezone: str
    publisher: str = "City open-data team"
    contact_email: str = "opendata@example.org"
    homepage: str = "https://example.org"
    # Language of every resident-facing word (site and feeds): a catalogue in data/messages/.
    language: str = Field(default="en", pattern=r"^[a-z]{2,3}$")
    bbox: BoundingBox
    districts: tuple[District, ...] = Field(min_length=1)
    # District polygons (GeoJSON): a path relative to the TOML file; `<name>.geojson` beside the
    # TOML file is found without this key. Set by load_jurisdiction to an absolute path.
    boundaries: str | None = None
    # The name registry (TOML, privacy/names.py): a path relative to the TOML file;
    # `names/<stem>.toml` beside it is found without this key. Absolute after load_jurisdiction.
    names: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _unique_districts(self) -> Jurisdiction:
        ids = [d.id for d in self.districts]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"duplicate district ids: {', '.join(dupes)}")
        return self

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def district_ids(self) -> frozenset[str]:
        return frozenset(d.id for d in self.districts)

    @cached_property
    def district_boundaries(self) -> DistrictBoundaries | None:
        """The district polygons, when the jurisdiction ships them (loaded on first use)."""
        if self.boundaries is None:
            return None
        try:
            return load_boundaries(Path(self.boundaries), self.district_ids)
        except BoundariesError as exc:
            raise JurisdictionError(str(exc)) from exc

    @cached_property
    def name_registry(self) -> NameRegistry:
        """The partners and venues published by name; an empty registry (none) without one."""
        try:
            return load_name_registry(Path(self.names) if self.names else None)
        except NameRegistryError as exc:
            raise JurisdictionError(str(exc)) from exc

    def district_at(self, lat: float | None, lon: float | None) -> str | None:
        """The district whose boundary holds the point; None without boundaries or outside."""
        boundaries = self.district_boundaries
        if boundaries is None or lat is None or lon is None:
            return None
        return boundaries.locate(lat, lon)

    def district(self, district_id: str) -> District | None:
        for d in self.districts:
            if d.id == district_id:
                return d
        return None

    def to_utc(
        self, local: datetime, ambiguous: Literal["earlier", "later", "reject"] = "earlier"
    ) -> datetime:
        """A naive local wall-clock time (as city exports give them) as an aware UTC datetime.

        A time in the hour the autumn DST change repeats is the earlier (first) or the later
        (second) of its two instants, or `AmbiguousTimeError` with "reject".
        """
        if local.tzinfo is not None:
            return local.astimezone(UTC)
        first = local.replace(tzinfo=self.zone, fold=0)
        second = local.replace(tzinfo=self.zone, fold=1)
        if first.utcoffset() != second.utcoffset() and _exists(first) and _exists(second):
            if ambiguous == "reject":
                raise AmbiguousTimeError(
                    f"{local.isoformat(sep=' ')} happens twice in {self.timezone} (the DST "
                    "change repeats that hour); the mapping rejects ambiguous times "
                    '(ambiguous = "reject")'
                )
            return (second if ambiguous == "later" else first).astimezone(UTC)
        return first.astimezone(UTC)

    def local_date(self, moment: datetime) -> datetime:
        """The same instant on the jurisdiction's wall clock (for dates and ISO weeks)."""
        return moment.astimezone(self.zone)


def _exists(moment: datetime) -> bool:
    """True when the wall-clock time really occurs (it is not in the spring-forward gap)."""
    back = moment.astimezone(UTC).astimezone(moment.tzinfo)
    return back.replace(tzinfo=None) == moment.replace(tzinfo=None)


def load_jurisdiction(name_or_path: str | Path) -> Jurisdiction:
    """Load `infra/jurisdictions/<name>.toml`, or a TOML file given by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = JURISDICTIONS_DIR / f"{name_or_path}.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        known = ", ".join(sorted(p.stem for p in JURISDICTIONS_DIR.glob("*.toml")))
        raise JurisdictionError(
            f"jurisdiction file {path} not found (shipped: {known}); set OPENBEAT_JURISDICTION"
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        raise JurisdictionError(f"{path}: not valid TOML: {exc}") from exc
    named = raw.get("boundaries")
    beside = path.with_suffix(".geojson")
    if isinstance(named, str):
        raw["boundaries"] = str((path.parent / named).resolve())
    elif named is None and beside.is_file():
        raw["boundaries"] = str(beside.resolve())
    registry = raw.get("names")
    shipped = path.parent / "names" / f"{path.stem}.toml"
    if isinstance(registry, str):
        raw["names"] = str((path.parent / registry).resolve())
        if not Path(raw["names"]).is_file():
            raise JurisdictionError(f"{path}: field names: no registry file {raw['names']}")
    elif registry is None and shipped.is_file():
        raw["names"] = str(shipped.resolve())
    try:
        return Jurisdiction.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise JurisdictionError(f"{path}: field {where}: {first['msg']}") from exc
