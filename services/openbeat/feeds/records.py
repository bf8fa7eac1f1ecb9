"""Public records as the alerter keeps them: checked, JSON-safe, with a precomputed event time.

Input is a PublicIncident or PublicEngagement dict as fastavro decodes it (aware UTC datetimes,
`datetime.date` dates) or as the alerter's checkpoint stores it (ISO strings); both normalize to
the same dict, so a restored state equals the state it was saved from. Only fields the feeds use
are kept: nothing else from a record can reach a feed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

_EPOCH_DATE = date(1970, 1, 1)


class AlertInputError(ValueError):
    """A public record the alerter cannot use; the message names the field."""


def _field(record: Mapping[str, Any], name: str) -> Any:
    try:
        return record[name]
    except KeyError:
        raise AlertInputError(f"missing field {name}") from None


def _text(record: Mapping[str, Any], name: str, *, optional: bool = False) -> str | None:
    value = record.get(name) if optional else _field(record, name)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise AlertInputError(f"field {name}: expected a string, got {type(value).__name__}")
    return value


def _required_text(record: Mapping[str, Any], name: str) -> str:
    value = _text(record, name)
    assert value is not None
    return value


def _timestamp(value: Any, name: str) -> datetime:
    """An aware datetime, an ISO 8601 string with offset, or epoch milliseconds, as UTC."""
    if isinstance(value, bool):
        raise AlertInputError(f"field {name}: expected a timestamp, got a boolean")
    if isinstance(value, int):
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=value)
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError as exc:
            raise AlertInputError(f"field {name}: not an ISO 8601 timestamp") from exc
    if not isinstance(value, datetime):
        raise AlertInputError(f"field {name}: expected a timestamp, got {type(value).__name__}")
    if value.tzinfo is None:
        raise AlertInputError(f"field {name}: timestamp has no time zone")
    return value.astimezone(UTC)


def _date(value: Any, name: str) -> date:
    """A `date`, an ISO date string, or days since the epoch (Avro's date)."""
    if isinstance(value, bool):
        raise AlertInputError(f"field {name}: expected a date, got a boolean")
    if isinstance(value, int):
        return _EPOCH_DATE + timedelta(days=value)
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError as exc:
            raise AlertInputError(f"field {name}: not an ISO 8601 date") from exc
    if isinstance(value, datetime) or not isinstance(value, date):
        raise AlertInputError(f"field {name}: expected a date, got {type(value).__name__}")
    return value


def _coordinate(value: Any, name: str, limit: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise AlertInputError(f"field {name}: expected a number")
    number = float(value)
    if not math.isfinite(number) or abs(number) > limit:
        raise AlertInputError(f"field {name}: {number} is not a coordinate")
    return number


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _head(record: Mapping[str, Any]) -> dict[str, Any]:
    revision = _field(record, "revision")
    if isinstance(revision, bool) or not isinstance(revision, int):
        raise AlertInputError("field revision: expected an integer")
    withdrawn = record.get("withdrawn", False)
    if not isinstance(withdrawn, bool):
        raise AlertInputError("field withdrawn: expected a boolean")
    public_id = _required_text(record, "public_id")
    if not public_id:
        raise AlertInputError("field public_id: empty")
    return {"public_id": public_id, "revision": revision, "withdrawn": withdrawn}


def normalize_incident(record: Mapping[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """A PublicIncident as kept in the state; `t` is its event time in POSIX seconds.

    The event time is `occurred_hour`, or local midnight of `occurred_date` when the hour is
    withheld (sensitive incidents are published to the date only).
    """
    out = _head(record)
    occurred_date = _date(_field(record, "occurred_date"), "occurred_date")
    raw_hour = record.get("occurred_hour")
    hour = None if raw_hour is None else _timestamp(raw_hour, "occurred_hour")
    if hour is not None:
        event = hour
    else:
        event = datetime.combine(occurred_date, time(0), tzinfo=zone).astimezone(UTC)
    precision = _text(record, "location_precision", optional=True) or "district"
    latitude = _coordinate(record.get("latitude"), "latitude", 90.0)
    longitude = _coordinate(record.get("longitude"), "longitude", 180.0)
    if precision == "district" or latitude is None or longitude is None:
        # A district-only record must never get a point, even if a stray coordinate came along.
        latitude = longitude = None
    out.update(
        category=_required_text(record, "category"),
        offense_code=_text(record, "offense_code", optional=True) or "",
        district=_required_text(record, "district"),
        block=_text(record, "block", optional=True) if precision != "district" else None,
        latitude=latitude,
        longitude=longitude,
        location_precision=precision,
        status=_text(record, "status", optional=True) or "",
        occurred_date=occurred_date.isoformat(),
        reported_date=_date(_field(record, "reported_date"), "reported_date").isoformat(),
        occurred_hour=None if hour is None else _iso(hour),
        t=event.timestamp(),
    )
    return out


def _strings(record: Mapping[str, Any], name: str) -> list[str]:
    value = record.get(name) or []
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        raise AlertInputError(f"field {name}: expected a list of strings")
    return list(value)


def normalize_engagement(record: Mapping[str, Any], seen: float | None = None) -> dict[str, Any]:
    """A PublicEngagement as kept in the state; `t` is its start in POSIX seconds.

    `seen` is when this version reached the public topic (the Kafka record's timestamp, POSIX
    seconds): `announced` is the earliest such time of the meeting (its feed item's date) and
    `revised` this version's. A checkpointed record carries both already.
    """
    out = _head(record)
    announced = record.get("announced", seen)
    revised = record.get("revised", seen)
    starts_at = _timestamp(_field(record, "starts_at"), "starts_at")
    raw_end = record.get("ends_at")
    ends_at = None if raw_end is None else _timestamp(raw_end, "ends_at")
    out.update(
        kind=_required_text(record, "kind"),
        status=_required_text(record, "status"),
        district=_required_text(record, "district"),
        venue=_text(record, "venue", optional=True),
        block=_text(record, "block", optional=True),
        partners=_strings(record, "partners"),
        topics=_strings(record, "topics"),
        starts_at=_iso(starts_at),
        ends_at=None if ends_at is None else _iso(ends_at),
        t=starts_at.timestamp(),
    )
    if announced is not None and revised is not None:
        out.update(announced=float(announced), revised=float(revised))
    return out
