"""Valid example input records for the sample jurisdiction (Riverton), for tests and docs.

Each builder returns a fresh dict in exactly the shape `SchemaStore.decode` returns (every field of
the current reader schema, tz-aware UTC datetimes, `datetime.date` for dates), valid against
`validate()` for `load_jurisdiction("sample")` at any `now` from EXAMPLE_NOW on. Pass keyword
overrides to change fields; an unknown field name raises, so a typo cannot make a test pass.
All people, addresses and ids are invented.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

# A `now` at which every example is valid and not in the future; tests pass it to validate().
EXAMPLE_NOW = datetime(2024, 5, 2, 12, 0, tzinfo=UTC)


def _apply(record: dict[str, Any], overrides: dict[str, Any], what: str) -> dict[str, Any]:
    unknown = sorted(set(overrides) - set(record))
    if unknown:
        raise TypeError(f"{what} has no field(s) {', '.join(unknown)}")
    record.update(overrides)
    return record


def example_person(**overrides: Any) -> dict[str, Any]:
    """A victim with every PII field filled (so anonymization tests see something to drop)."""
    person = {
        "role": "victim",
        "name": "Jordan Example",
        "date_of_birth": date(1990, 4, 12),
        "age": 34,
        "sex": "F",
        "phone": "+1 555 0100 123",
        "email": "jordan@example.org",
        "address": "1420 W Maple St, Riverton",
    }
    return _apply(person, overrides, "Person")


def example_incident(**overrides: Any) -> dict[str, Any]:
    """A theft from a motor vehicle in district D1 (openbeat.raw.Incident, current version)."""
    incident = {
        "incident_id": "RPD-2024-000123",
        "agency_id": "RPD",
        "revision": 1,
        "reported_at": datetime(2024, 5, 1, 14, 30, tzinfo=UTC),
        "occurred_at": datetime(2024, 5, 1, 13, 45, tzinfo=UTC),
        "offense_code": "23F",
        "offense_description": "THEFT FROM VEHICLE",
        "status": "open",
        "address": "1234 W Main St",
        "latitude": 41.4812,
        "longitude": -88.2791,
        "district": "D1",
        "narrative": "Victim reports a laptop taken from a parked car.",
        "persons": [example_person()],
        "juvenile_involved": False,
        "domestic": False,
        "confidential": False,
        "officer_id": "O-4711",
        "beat": "D1-3",
        "source_system": "example-rms",
        # Version 3: its one offense is offense_code (as older versions carry it).
        "offenses": [],
        "sensitive": False,
    }
    return _apply(incident, overrides, "Incident")


def example_report(**overrides: Any) -> dict[str, Any]:
    """A suspicious-activity report in district D2 (openbeat.raw.Report)."""
    report = {
        "report_id": "WEB-2024-0042",
        "agency_id": "RPD",
        "submitted_at": datetime(2024, 5, 1, 21, 5, tzinfo=UTC),
        "channel": "web",
        "category": "suspicious_activity",
        "description": "Someone trying car doors on Elm St, call me at 555-0100.",
        "address": "200 N Elm St",
        "latitude": 41.5301,
        "longitude": -88.2812,
        "district": "D2",
        "reporter": {"name": "Sam Resident", "phone": "555-0100", "email": "sam@example.org"},
        "anonymous": False,
    }
    return _apply(report, overrides, "Report")


def example_engagement(**overrides: Any) -> dict[str, Any]:
    """A held community meeting in district D3 (openbeat.raw.Engagement)."""
    engagement = {
        "engagement_id": "CE-2024-007",
        "agency_id": "RPD",
        "revision": 1,
        "kind": "community_meeting",
        "status": "held",
        "starts_at": datetime(2024, 4, 30, 23, 0, tzinfo=UTC),
        "ends_at": datetime(2024, 5, 1, 0, 30, tzinfo=UTC),
        "district": "D3",
        "venue_name": "Eastgate Public Library",
        "venue_address": "310 E Oak Ave",
        "public": True,
        "attendee_count": 27,
        "partner_organizations": ["Eastgate Neighbors Association"],
        "topics": ["traffic safety", "car break-ins"],
        "survey": None,
        "respondent": None,
    }
    return _apply(engagement, overrides, "Engagement")


def example_survey_response(**overrides: Any) -> dict[str, Any]:
    """A survey response (kind survey_response) given at the meeting above."""
    base = example_engagement(
        engagement_id="SR-2024-0815",
        kind="survey_response",
        status="held",
        starts_at=datetime(2024, 5, 1, 0, 35, tzinfo=UTC),
        ends_at=None,
        venue_name=None,
        venue_address=None,
        public=False,
        attendee_count=None,
        partner_organizations=[],
        topics=[],
        survey={"trust_score": 4, "safety_score": 3, "comment": "More patrols on Oak Ave please."},
        respondent={"name": "Alex Neighbor", "email": "alex@example.org", "age_band": "25-34"},
    )
    return _apply(base, overrides, "Engagement")
