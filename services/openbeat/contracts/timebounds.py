"""The one range every timestamp openbeat accepts must lie in: 1900-01-01 to three years ahead.

Avro `timestamp-millis` can carry any instant from year 1 to 9999 (and fastavro decodes them
all), but the stages downstream cannot: converting 0001-01-01T00:00Z to a local zone west of UTC
overflows `datetime`, ISO weeks and Parquet conversions fail near the ends of the range, and a
single such event used to crash the anonymizer on every restart (or, for an engagement, every
release). No real incident, report or engagement lies outside this range, so validation refuses
anything outside it with a reason, and the sink stages check public records against the same
bounds before they absorb them.

- The lower bound, 1900-01-01T00:00Z, is far before any record an agency system holds and far
  enough from year 1 that every time zone and calendar computation stays in range.
- The upper bound, now + 3 years, leaves room for engagements scheduled well ahead while
  refusing mistyped years (2206 for 2026); incidents and reports have the stricter
  "not in the future" rule on top of it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

logger = logging.getLogger(__name__)

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
# Three years, counting a leap day.
MAX_AHEAD = timedelta(days=3 * 365 + 1)
OUT_OF_RANGE = "timestamp_out_of_range"
_UTC_OFFSET = timedelta(0)


def latest(now: datetime) -> datetime:
    """The latest acceptable instant at `now`."""
    return now + MAX_AHEAD


def bounds_problem(value: datetime, name: str, now: datetime) -> str | None:
    """One sentence naming field `name` when the aware `value` lies outside the range, else None.

    The sentence repeats the value (a time is safe to echo) and says what is expected.
    """
    if EARLIEST <= value <= latest(now):
        return None
    return (
        f"Field {name} is {value.isoformat()}, outside the accepted range "
        f"{EARLIEST.date().isoformat()} to {latest(now).date().isoformat()} (three years "
        "ahead); check the year."
    )


def time_problem(
    value: object, name: str, now: datetime, *, not_after: datetime | None = None
) -> tuple[str, str] | None:
    """(code, sentence) when field `name` is not an acceptable timestamp, else None.

    Acceptable: a UTC datetime inside the range and, when `not_after` is given (events that
    already happened), not later than it. Validation calls this for every timestamp field.
    """
    if not isinstance(value, datetime):
        return "wrong_type", f"Field {name} is not a timestamp."
    offset = value.utcoffset()
    if offset is None or offset != _UTC_OFFSET:
        return (
            "timestamp_not_utc",
            f"Field {name} is {value.isoformat()}, which is not in UTC; give UTC times.",
        )
    if not_after is not None and value > not_after:
        # Stricter than the upper bound, and the more useful sentence for a past event.
        return (
            "timestamp_in_future",
            f"Field {name} is {value.isoformat()}, later than now ({now.isoformat()}) plus the "
            f"allowed clock skew of {not_after - now}; expected a time in the past.",
        )
    if EARLIEST <= value <= now + MAX_AHEAD:  # bounds_problem's test, without its call
        return None
    problem = bounds_problem(value, name, now)
    if problem is not None:
        return OUT_OF_RANGE, problem
    return None


def millis_problem(value: int, name: str, now: datetime) -> str | None:
    """`bounds_problem` for a raw timestamp-millis value (as public records may carry them)."""
    try:
        moment = datetime.fromtimestamp(value / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return f"Field {name} is {value} ms since 1970, not a representable time; check the year."
    return bounds_problem(moment, name, now)
