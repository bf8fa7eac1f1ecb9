"""The aggregate datasets' specs: daily, weekly and monthly incident counts, engagement summary.

Split from `releases.datasets` (which re-exports them, with every other dataset, in DATASETS)
to keep modules small. Every aggregate period is sealed (`aggregate.sealing`): published once
its period has closed plus the policy's settle_days, and never changed afterwards.
"""

from __future__ import annotations

import pyarrow as pa

from openbeat.releases.spec import _AGG_DISTRICT, _SUPPRESSED, DatasetSpec, _c

_K = "; null when fewer than k records (see suppressed)"

INCIDENT_COUNTS = DatasetSpec(
    name="incident-counts",
    title="Daily incident counts by district and category",
    description=(
        "Number of incidents per local day, district and offense category, including withheld "
        "incidents. Counts resting on fewer than k incidents are suppressed (empty, with "
        "suppressed = true), and no suppressed cell can be recovered from totals. A day is "
        "published once it is over plus the policy's settle days and never changes afterwards "
        "(sealed); incidents reported later than that are not counted (late records). The "
        "(citywide) (withheld) row of every day counts withheld incidents moved off their cells."
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


def _coarser(grain: str, unit: str, example: str) -> DatasetSpec:
    return DatasetSpec(
        name=f"incident-counts-{grain}",
        title=f"{grain.capitalize()} incident counts by district and category",
        description=(
            f"Number of incidents per {unit}, per district and citywide, and per offense "
            "category: the sum of the sealed daily counts of the same cells (including the "
            "withheld incidents shown there; withheld incidents moved to a day's (citywide) "
            "(withheld) row are counted only in the daily dataset). Counts below k are "
            f"suppressed. A {unit} is published once its last day is sealed, then never changes."
        ),
        keywords=("police", "incidents", "counts", "aggregate", grain, "public safety"),
        columns=(
            _c("period", pa.string(), f"The {unit} ({{tz}} calendar), e.g. {example}", False),
            _c("period_start", pa.date32(), f"First local date of the {unit}", nullable=False),
            _c("district", pa.string(), _AGG_DISTRICT, nullable=False),
            _c(
                "category",
                pa.string(),
                "Public offense category of the incidents' primary offense",
                nullable=False,
            ),
            _c("count", pa.int64(), "Number of incidents" + _K),
            _c("suppressed", pa.bool_(), _SUPPRESSED, nullable=False),
        ),
        sort_key=("period_start", "district", "category"),
        time_column="period_start",
        primary_key=("period", "district", "category"),
    )


INCIDENT_COUNTS_WEEKLY = _coarser("weekly", "ISO week", "2026-W47")
INCIDENT_COUNTS_MONTHLY = _coarser("monthly", "calendar month", "2026-11")
