"""The published datasets: columns, types, docs, sort order and catalog metadata.

A `DatasetSpec` is the single description the Parquet writer, the CSV writer, the manifest, the
Frictionless descriptor, the DCAT catalog, the data dictionary and the verifier all read, so
they cannot disagree. Descriptions may name `{tz}`, the jurisdiction's IANA time zone, filled in
by `DatasetSpec.localized` when a release is written.

Time columns: every instant is published twice, in UTC (`..._hour`, `..._at`, a timestamp with
time zone) and on the local wall clock (`..._local`, a timestamp without time zone, and the local
date), side by side. The local forms are derived at release time from the UTC value (`local_of`),
so they always agree with it; the anonymizer truncates on the local clock, so a local hour is
always a whole hour and its date is the record's local date.
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

INCIDENTS = DatasetSpec(
    name="incidents",
    title="Police incidents",
    description=(
        "One row per reported police incident (latest revision), anonymized: no names, exact "
        "addresses or agency ids; locations generalized to the hundred block and a grid cell; "
        "times truncated to the hour; an incident with several offenses is one row under its "
        "most serious offense; sensitive offenses shown at district and date level only; "
        "juvenile-involved and confidential incidents withheld."
    ),
    keywords=("police", "incidents", "crime", "public safety", "NIBRS"),
    columns=(
        _c("public_id", pa.string(), _PUBLIC_ID, nullable=False),
        _c(
            "category",
            pa.string(),
            "Public offense category of the incident's primary offense (its most serious: persons "
            "before property before society, order in offense_codes.toml)",
            nullable=False,
        ),
        _c(
            "offense_code",
            pa.string(),
            "NIBRS code of the primary offense; joins offense-codes.code",
            False,
        ),
        _c(
            "offense_count",
            pa.int32(),
            "Number of offenses of the incident (one row per incident, whatever the count)",
            nullable=False,
        ),
        _c(
            "offense_codes",
            STRING_LIST,
            "Every NIBRS code of the incident, most serious first, when the policy publishes "
            "them (publish_all_offense_codes); else empty",
        ),
        _c("reported_date", pa.date32(), "Date reported (local date, {tz})", nullable=False),
        _c(
            "occurred_date",
            pa.date32(),
            "Date occurred (local date, {tz}); the date of occurred_hour_local when that is shown",
            nullable=False,
            local_of="occurred_hour",
        ),
        _c(
            "occurred_hour_local",
            LOCAL_TIMESTAMP,
            "Occurrence time truncated to the hour, local wall clock ({tz}); "
            "empty for sensitive offenses",
            local_of="occurred_hour",
        ),
        _c(
            "occurred_hour",
            TIMESTAMP,
            "The same hour in UTC; empty for sensitive offenses",
        ),
        _c("block", pa.string(), _BLOCK),
        _c("district", pa.string(), _DISTRICT, nullable=False),
        _c("latitude", pa.float64(), _LAT),
        _c("longitude", pa.float64(), _LON),
        _c("location_precision", pa.string(), _PRECISION, nullable=False),
        _c(
            "status",
            pa.string(),
            "open, cleared_arrest, cleared_exceptional, unfounded or closed",
            nullable=False,
        ),
    ),
    sort_key=("occurred_date", "public_id"),
    time_column="occurred_date",
    primary_key=("public_id",),
)

COMMUNITY_REPORTS = DatasetSpec(
    name="community-reports",
    title="Community reports",
    description=(
        "One row per community report (tips, suspicious activity, non-emergency requests), "
        "anonymized: no reporter identity; locations generalized to the hundred block and a grid "
        "cell; times truncated to the hour; free text only when the policy enables it, redacted."
    ),
    keywords=("community reports", "tips", "non-emergency", "public safety"),
    columns=(
        _c("public_id", pa.string(), _PUBLIC_ID, nullable=False),
        _c(
            "submitted_date",
            pa.date32(),
            "Date submitted (local date, {tz})",
            nullable=False,
            local_of="submitted_hour",
        ),
        _c(
            "submitted_hour_local",
            LOCAL_TIMESTAMP,
            "Submission time truncated to the hour, local wall clock ({tz})",
            nullable=False,
            local_of="submitted_hour",
        ),
        _c("submitted_hour", TIMESTAMP, "The same hour in UTC", nullable=False),
        _c("channel", pa.string(), "web, app, phone, walk_in, email or other", nullable=False),
        _c("category", pa.string(), "Report category", nullable=False),
        _c("block", pa.string(), _BLOCK),
        _c("district", pa.string(), _DISTRICT, nullable=False),
        _c("latitude", pa.float64(), _LAT),
        _c("longitude", pa.float64(), _LON),
        _c("location_precision", pa.string(), _PRECISION, nullable=False),
        _c("description", pa.string(), "Redacted free text; empty unless the policy enables it"),
    ),
    sort_key=("submitted_hour", "public_id"),
    time_column="submitted_hour",
    primary_key=("public_id",),
)

ENGAGEMENT_EVENTS = DatasetSpec(
    name="engagement-events",
    title="Community engagement events",
    description=(
        "One row per held or scheduled public community engagement event (community meetings, "
        "neighborhood watch, school workshops, patrol walks, forums). No participant data."
    ),
    keywords=("community engagement", "meetings", "neighborhood watch", "community policing"),
    columns=(
        _c("public_id", pa.string(), _PUBLIC_ID, nullable=False),
        _c(
            "kind",
            pa.string(),
            "community_meeting, neighborhood_watch, school_workshop, patrol_walk or forum",
            nullable=False,
        ),
        _c("status", pa.string(), "scheduled or held", nullable=False),
        _c(
            "starts_at_local",
            LOCAL_TIMESTAMP,
            "Start, local wall clock ({tz})",
            nullable=False,
            local_of="starts_at",
        ),
        _c("starts_at", TIMESTAMP, "Start (UTC)", nullable=False),
        _c("ends_at_local", LOCAL_TIMESTAMP, "End, local wall clock ({tz})", local_of="ends_at"),
        _c("ends_at", TIMESTAMP, "End (UTC)"),
        _c("district", pa.string(), _DISTRICT, nullable=False),
        _c("venue", pa.string(), "Venue name"),
        _c("block", pa.string(), "Venue hundred block"),
        _c("attendee_count", pa.int32(), "Attendance, once held"),
        _c("partners", STRING_LIST, "Partner organisations (CSV: a JSON array)", False),
        _c("topics", STRING_LIST, "Topics (CSV: a JSON array)", nullable=False),
    ),
    sort_key=("starts_at", "public_id"),
    time_column="starts_at",
    primary_key=("public_id",),
    theme=("Public Safety", "Community"),
)

_K = "; null when fewer than k records (see suppressed)"

INCIDENT_COUNTS = DatasetSpec(
    name="incident-counts",
    title="Daily incident counts by district and category",
    description=(
        "Number of incidents per local day, district and offense category, including withheld "
        "incidents. Counts resting on fewer than k incidents are suppressed (empty, with "
        "suppressed = true), and no suppressed cell can be recovered from totals."
    ),
    keywords=("police", "incidents", "counts", "aggregate", "public safety"),
    columns=(
        _c("date", pa.date32(), "Local date of occurrence ({tz})", nullable=False),
        _c("district", pa.string(), _AGG_DISTRICT, nullable=False),
        _c(
            "category",
            pa.string(),
            "Public offense category of the incidents' primary offense (an incident with several "
            "offenses is counted once, under its most serious); (withheld) on the (citywide) "
            "row counting withheld incidents moved off their cells; (all) on a district total",
            nullable=False,
        ),
        _c("count", pa.int64(), "Number of incidents" + _K),
        _c("suppressed", pa.bool_(), _SUPPRESSED, nullable=False),
    ),
    sort_key=("date", "district", "category"),
    time_column="date",
    primary_key=("date", "district", "category"),
)

ENGAGEMENT_SUMMARY = DatasetSpec(
    name="engagement-summary",
    title="Weekly community engagement summary by district",
    description=(
        "Per ISO week and district: engagement events held by kind, attendees, survey responses "
        "and mean trust and safety scores (1-5). Values resting on fewer than k records are "
        "suppressed (empty, with suppressed = true). Survey answers are published only here."
    ),
    keywords=("community engagement", "survey", "trust", "aggregate", "community policing"),
    columns=(
        _c("iso_week", pa.string(), "ISO 8601 week of the local date ({tz}), e.g. 2026-W47", False),
        _c("district", pa.string(), _AGG_DISTRICT, nullable=False),
        _c("events_held", pa.int64(), "Events held, all kinds" + _K),
        _c("meetings", pa.int64(), "Community meetings held" + _K),
        _c("neighborhood_watch", pa.int64(), "Neighborhood watch meetings held" + _K),
        _c("school_workshops", pa.int64(), "School workshops held" + _K),
        _c("patrol_walks", pa.int64(), "Patrol walks held" + _K),
        _c("forums", pa.int64(), "Forums held" + _K),
        _c("attendees", pa.int64(), "Total attendance of events held" + _K),
        _c("survey_responses", pa.int64(), "Survey responses received" + _K),
        _c("mean_trust", pa.float64(), "Mean trust score (1-5)" + _K),
        _c("mean_safety", pa.float64(), "Mean safety score (1-5)" + _K),
        _c("suppressed", pa.bool_(), _SUPPRESSED, nullable=False),
    ),
    sort_key=("iso_week", "district"),
    time_column="iso_week",
    primary_key=("iso_week", "district"),
    theme=("Public Safety", "Community"),
)

OFFENSE_CODES = DatasetSpec(
    name="offense-codes",
    title="NIBRS offense codes",
    description=(
        "Every NIBRS offense code the incidents may carry, with its name, group, what it is a "
        "crime against, the public category it is published under and whether it is treated "
        "as sensitive (location reduced to the district, time to the date). Join "
        "incidents.offense_code to code."
    ),
    keywords=("NIBRS", "offense codes", "reference", "public safety"),
    columns=(
        _c("code", pa.string(), "NIBRS offense code (incidents.offense_code)", nullable=False),
        _c("name", pa.string(), "NIBRS offense name", nullable=False),
        _c("group", pa.string(), "NIBRS group: A (incident-reported) or B (arrest-only)", False),
        _c(
            "crime_against",
            pa.string(),
            "person, property, society or not_a_crime",
            nullable=False,
        ),
        _c("category", pa.string(), "Public category (incidents.category)", nullable=False),
        _c(
            "sensitive",
            pa.bool_(),
            "True when incidents with this code show only the district and the date",
            nullable=False,
        ),
        _c("retired", pa.bool_(), "True for codes no longer in the NIBRS manual", False),
    ),
    sort_key=("code",),
    time_column=None,
    primary_key=("code",),
)

DISTRICTS = DatasetSpec(
    name="districts",
    title="Districts",
    description=(
        "The districts every dataset's district column refers to: id, name, centroid and, "
        "where the jurisdiction publishes it, the boundary as GeoJSON. Join any district "
        "column to id; the values (citywide) and (withheld) are not districts (see the data "
        "dictionary)."
    ),
    keywords=("districts", "geography", "reference", "public safety"),
    columns=(
        _c("id", pa.string(), "District id (the district column of every dataset)", False),
        _c("name", pa.string(), "District name", nullable=False),
        _c("centroid_latitude", pa.float64(), "Latitude of the district centroid (WGS 84)"),
        _c("centroid_longitude", pa.float64(), "Longitude of the district centroid (WGS 84)"),
        _c("boundary", pa.string(), "Boundary as a GeoJSON geometry (WGS 84); empty if unknown"),
    ),
    sort_key=("id",),
    time_column=None,
    primary_key=("id",),
    theme=("Public Safety", "Geography"),
)

DATASETS: dict[str, DatasetSpec] = {
    spec.name: spec
    for spec in (
        INCIDENTS,
        COMMUNITY_REPORTS,
        ENGAGEMENT_EVENTS,
        INCIDENT_COUNTS,
        ENGAGEMENT_SUMMARY,
        OFFENSE_CODES,
        DISTRICTS,
    )
}
# Reference tables: their rows come from the shipped offense table and the jurisdiction file.
REFERENCE_DATASETS = (OFFENSE_CODES.name, DISTRICTS.name)


def get_dataset(name: str) -> DatasetSpec:
    """The spec of a published dataset; `KeyError` naming the known ones otherwise."""
    try:
        return DATASETS[name]
    except KeyError:
        raise KeyError(f"unknown dataset {name!r}; known: {', '.join(sorted(DATASETS))}") from None
