"""Release-test inputs: public incident rows and constants shared by the release tests."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

BASE_URL = "https://data.riverton.example/openbeat"
CUTOFF = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def incident_row(i: int, **overrides: Any) -> dict[str, Any]:
    """A public incident row; `i` varies id, date, hour and location."""
    day = date(2026, 11, 1 + i % 20)
    row: dict[str, Any] = {
        "public_id": f"p{i:05d}",
        "category": ["theft", "burglary", "assault"][i % 3],
        "offense_code": ["23H", "220", "13B"][i % 3],
        "offense_count": 1,
        "offense_codes": [],
        "reported_date": day,
        "occurred_date": day,
        "occurred_hour": datetime(day.year, day.month, day.day, i % 24, tzinfo=UTC),
        "block": f"{i % 90:03d}XX W MAIN ST",
        "district": f"D{1 + i % 6}",
        "latitude": 41.48125 + (i % 7) * 0.00225,
        "longitude": -88.28125,
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
