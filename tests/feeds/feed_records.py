"""Builders of PublicIncident / PublicEngagement dicts (as fastavro decodes them) for feed tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from openbeat.contracts.jurisdiction import Jurisdiction, load_jurisdiction
from openbeat.feeds.alerts import AlertState
from openbeat.feeds.rules import AlertRules, load_alert_rules

# A Tuesday evening in Riverton (America/Chicago, UTC-6 in winter).
NOW = datetime(2024, 3, 5, 18, 0, tzinfo=UTC)
H = timedelta(hours=1)
D = timedelta(days=1)


def jurisdiction() -> Jurisdiction:
    return load_jurisdiction("sample")


def rules(**update: Any) -> AlertRules:
    return load_alert_rules().model_copy(update=update)


def new_state() -> AlertState:
    return AlertState(jurisdiction().timezone)


def incident(
    public_id: str,
    at: datetime | None,
    *,
    revision: int = 1,
    category: str = "robbery",
    district: str = "D1",
    status: str = "open",
    withdrawn: bool = False,
    block: str | None = "012XX W MAIN ST",
    point: tuple[float, float] | None = (41.4812, -88.2797),
    occurred_date: date | None = None,
) -> dict[str, Any]:
    """An incident at hour `at`; `at=None` makes it sensitive (date only, district only)."""
    if at is None:
        assert occurred_date is not None
        block, point, precision = None, None, "district"
    else:
        occurred_date = occurred_date or at.astimezone(ZoneInfo("America/Chicago")).date()
        precision = "block" if point is not None else "district"
    return {
        "public_id": public_id,
        "revision": revision,
        "withdrawn": withdrawn,
        "category": category,
        "offense_code": "120",
        "offense_count": 1,
        "offense_codes": [],
        "reported_date": occurred_date,
        "occurred_date": occurred_date,
        "occurred_hour": at,
        "block": block,
        "district": district,
        "latitude": None if point is None else point[0],
        "longitude": None if point is None else point[1],
        "location_precision": precision,
        "status": status,
    }


def engagement(
    public_id: str,
    starts_at: datetime,
    *,
    revision: int = 1,
    status: str = "scheduled",
    kind: str = "community_meeting",
    district: str = "D2",
    venue: str | None = "Northside Library",
    withdrawn: bool = False,
    topics: tuple[str, ...] = ("traffic safety",),
) -> dict[str, Any]:
    return {
        "public_id": public_id,
        "revision": revision,
        "withdrawn": withdrawn,
        "kind": kind,
        "status": status,
        "starts_at": starts_at,
        "ends_at": starts_at + 2 * H,
        "district": district,
        "venue": venue,
        "block": "004XX N OAK AVE",
        "attendee_count": None,
        "partners": ["Northside Neighbors"],
        "topics": list(topics),
    }


def absorb_all(state: AlertState, events: list[tuple[str, dict[str, Any]]]) -> AlertState:
    for kind, record in events:
        if kind == "incident":
            state.absorb_incident(record)
        else:
            state.absorb_engagement(record)
    return state
