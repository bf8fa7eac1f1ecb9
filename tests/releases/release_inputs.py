"""Release-test inputs: public incident rows and constants shared by the release tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from openbeat.privacy.grid import snap
from openbeat.privacy.pseudonym import key_id

BASE_URL = "https://data.riverton.example/openbeat"
CUTOFF = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
# The id of a (test) secret pseudonym key, as the publisher records it in every manifest.
TEST_KEY_ID = key_id(b"release-tests-secret-key-0123456789")


def pid(i: int) -> str:
    """The public id of `incident_row(i)`: shaped like a pseudonym (32 hex characters)."""
    return f"{i:032x}"


def incident_row(i: int, **overrides: Any) -> dict[str, Any]:
    """A public incident row as the anonymizer writes it (pseudonym-shaped id, hundred block,
    grid-cell centre, old enough to publish as of CUTOFF); `i` varies id, date, hour, place."""
    day = date(2026, 11, 1 + i % 18)
    lat, lon = snap(41.48125 + (i % 7) * 0.00225, -88.28125, 250)
    row: dict[str, Any] = {
        "public_id": pid(i),
        "category": ["theft", "burglary", "assault"][i % 3],
        "offense_code": ["23H", "220", "13B"][i % 3],
        "offense_count": 1,
        "offense_codes": [],
        "reported_date": day,
        "occurred_date": day,
        "occurred_hour": datetime(day.year, day.month, day.day, i % 24, tzinfo=UTC),
        "block": f"{1 + i % 89:03d}XX W MAIN ST",
        "district": f"D{1 + i % 6}",
        "latitude": lat,
        "longitude": lon,
        "location_precision": "block",
        "status": "open",
    }
    if i % 10 == 0:  # a sensitive offense: district and date only
        row.update(occurred_hour=None, block=None, latitude=None, longitude=None)
        row["location_precision"] = "district"
    row.update(overrides)
    return row


def public_incident(public_id: str, revision: int = 1, **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "public_id": public_id,
        "revision": revision,
        "withdrawn": False,
        "category": "theft",
        "offense_code": "23H",
        "offense_count": 1,
        "offense_codes": [],
        "reported_date": date(2026, 11, 3),
        "occurred_date": date(2026, 11, 2),
        "occurred_hour": datetime(2026, 11, 2, 21, tzinfo=UTC),
        "block": "012XX W MAIN ST",
        "district": "D1",
        "latitude": 41.48125,
        "longitude": -88.28125,
        "location_precision": "block",
        "status": "open",
    }
    record.update(overrides)
    return record
