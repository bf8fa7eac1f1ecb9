"""The building blocks of dataset specs: column and dataset descriptions, shared phrases.

`releases.datasets` (row-level and reference datasets, and DATASETS) and
`releases.aggregate_specs` (aggregate datasets) build on them; both re-export what they use.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pyarrow as pa

# Timestamps are UTC instants at millisecond precision, matching the Avro timestamp-millis fields.
TIMESTAMP = pa.timestamp("ms", tz="UTC")
# The same instant on the jurisdiction's wall clock (no time zone: the zone is in the metadata).
LOCAL_TIMESTAMP = pa.timestamp("ms")
STRING_LIST = pa.list_(pa.string())


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: pa.DataType
    description: str
    nullable: bool = True
    # A UTC timestamp column this one is the local form of (a local timestamp or a local date),
    # computed at release time; where that column is empty the row's own value is kept.
    local_of: str | None = None


@dataclass(frozen=True)
class DatasetSpec:
    """One dataset: what its rows hold and how it is described to portals."""

    name: str
    title: str
    description: str
    keywords: tuple[str, ...]
    columns: tuple[ColumnSpec, ...]
    # Rows are sorted by these columns (time first, then an id) so files are reproducible.
    sort_key: tuple[str, ...]
    time_column: str | None  # None for reference tables (offense codes, districts)
    primary_key: tuple[str, ...]
    theme: tuple[str, ...] = ("Public Safety",)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def localized(self, timezone: str) -> DatasetSpec:
        """The spec with `{tz}` in its descriptions replaced by the time zone's name."""
        columns = tuple(
            replace(c, description=c.description.replace("{tz}", timezone)) for c in self.columns
        )
        return replace(
            self, columns=columns, description=self.description.replace("{tz}", timezone)
        )

    def arrow_schema(self, metadata: dict[str, str] | None = None) -> pa.Schema:
        """The Parquet schema: typed columns with their description in field metadata."""
        fields = [
            pa.field(c.name, c.type, nullable=c.nullable, metadata={"description": c.description})
            for c in self.columns
        ]
        return pa.schema(fields, metadata=metadata)


def _c(
    name: str,
    type_: pa.DataType,
    description: str,
    nullable: bool = True,
    local_of: str | None = None,
) -> ColumnSpec:
    return ColumnSpec(name, type_, description, nullable, local_of)


_PUBLIC_ID = "Pseudonymous id (keyed HMAC-SHA256), stable across releases; not the agency's id"
_BLOCK = (
    "Hundred block (012XX W MAIN ST) or intersection (MAIN ST / 5TH AVE); "
    "empty when only the district may be shown"
)
_LAT = "Latitude of the centre of the grid cell holding the location (WGS 84); never the point"
_LON = "Longitude of the centre of the grid cell holding the location (WGS 84); never the point"
_PRECISION = "How precise the location is: block, intersection or district"
_DISTRICT = "District id; joins districts.id"
_AGG_DISTRICT = "District id (joins districts.id), or (citywide) for a row about the whole city"
_SUPPRESSED = "True when a value in this row is withheld because it rests on fewer than k records"
