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

import pyarrow as pa

from openbeat.releases.aggregate_specs import (
    ENGAGEMENT_SUMMARY,
    INCIDENT_COUNTS,
    INCIDENT_COUNTS_MONTHLY,
    INCIDENT_COUNTS_WEEKLY,
)
from openbeat.releases.spec import (
    _BLOCK,
    _DISTRICT,
    _LAT,
    _LON,
    _PRECISION,
    _PUBLIC_ID,
    LOCAL_TIMESTAMP,
    STRING_LIST,
    TIMESTAMP,
    ColumnSpec,
    DatasetSpec,
    _c,
)

__all__ = [
    "DATASETS",
    "ENGAGEMENT_SUMMARY",
    "INCIDENT_COUNTS",
    "INCIDENT_COUNTS_MONTHLY",
    "INCIDENT_COUNTS_WEEKLY",
    "LOCAL_TIMESTAMP",
    "REFERENCE_DATASETS",
    "STRING_LIST",
    "TIMESTAMP",
    "ColumnSpec",
    "DatasetSpec",
    "get_dataset",
]

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
        _c("venue", pa.string(), "Venue, when the city's name registry lists it (else null)"),
        _c("block", pa.string(), "Venue hundred block"),
        _c("attendee_count", pa.int32(), "Attendance, once held"),
        _c(
            "partners",
            STRING_LIST,
            "Partner organisations the city's name registry lists, then 'N other partners' "
            "for the unlisted ones (CSV: a JSON array)",
            False,
        ),
        _c("topics", STRING_LIST, "Topics (CSV: a JSON array)", nullable=False),
    ),
    sort_key=("starts_at", "public_id"),
    time_column="starts_at",
    primary_key=("public_id",),
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
        INCIDENT_COUNTS_WEEKLY,
        INCIDENT_COUNTS_MONTHLY,
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
