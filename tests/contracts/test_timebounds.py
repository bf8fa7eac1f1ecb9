"""Every timestamp field is bounded to 1900-01-01 .. now + 3 years (contracts.timebounds).

Year-0001 events used to pass validation and then crash the anonymizer (OverflowError in the
local-date conversion) on every restart; a year-0001 engagement crashed the engagement summary.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openbeat.contracts.examples import (
    EXAMPLE_NOW,
    example_engagement,
    example_incident,
    example_report,
)
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.contracts.offenses import load_offense_table
from openbeat.contracts.timebounds import EARLIEST, OUT_OF_RANGE, latest, millis_problem
from openbeat.contracts.validation import ValidationContext, validate
from openbeat.privacy.anonymize import AnonymizeContext, anonymize
from openbeat.privacy.policy import load_policy

CTX = ValidationContext(
    jurisdiction=load_jurisdiction("sample"),
    offenses=load_offense_table(),
    now=EXAMPLE_NOW,
    future_skew=timedelta(minutes=5),
)
ACTX = AnonymizeContext(
    load_policy(), b"timebounds-test-key-0123456789", CTX.jurisdiction, CTX.offenses
)
YEAR_1 = datetime(1, 1, 1, tzinfo=UTC)
YEAR_9999 = datetime(9999, 12, 31, 23, 59, tzinfo=UTC)

# Every timestamp field of every kind, with a record where that field alone can be moved.
FIELDS: list[tuple[str, str, Callable[..., dict[str, Any]]]] = [
    ("incident", "reported_at", lambda **kw: example_incident(**kw)),
    # occurred_at must not be after reported_at: move both for the late end.
    ("incident", "occurred_at", lambda **kw: example_incident(**kw)),
    ("report", "submitted_at", lambda **kw: example_report(**kw)),
    ("engagement", "starts_at", lambda **kw: example_engagement(ends_at=None, **kw)),
    ("engagement", "ends_at", lambda **kw: example_engagement(**kw)),
    (
        "engagement",
        "starts_at (scheduled)",
        lambda **kw: example_engagement(status="scheduled", ends_at=None, **kw),
    ),
]


def _codes(kind: str, record: dict[str, Any]) -> list[str]:
    return [f.code for f in validate(kind, record, CTX)]


@pytest.mark.parametrize(("kind", "field", "build"), FIELDS, ids=[f"{k}.{f}" for k, f, _ in FIELDS])
@pytest.mark.parametrize("moment", [YEAR_1, datetime(1899, 12, 31, 23, 59, tzinfo=UTC)])
def test_a_timestamp_before_1900_is_rejected_with_its_field(
    kind: str, field: str, build: Callable[..., dict[str, Any]], moment: datetime
) -> None:
    name = field.split()[0]
    record = build(**{name: moment})

    failures = validate(kind, record, CTX)

    assert OUT_OF_RANGE in [f.code for f in failures]
    [failure] = [f for f in failures if f.code == OUT_OF_RANGE]
    assert failure.field == name
    assert name in failure.message and "1900-01-01" in failure.message


def test_1900_itself_is_accepted_and_anonymizes() -> None:
    record = example_incident(occurred_at=EARLIEST)

    assert _codes("incident", record) == []
    assert anonymize("incident", record, ACTX)


def test_scheduled_engagement_three_years_ahead_is_accepted_but_not_further() -> None:
    inside = example_engagement(
        status="scheduled", starts_at=latest(EXAMPLE_NOW) - timedelta(days=1), ends_at=None
    )
    beyond = example_engagement(
        status="scheduled", starts_at=latest(EXAMPLE_NOW) + timedelta(days=1), ends_at=None
    )
    year_9999 = example_engagement(status="scheduled", starts_at=YEAR_9999, ends_at=None)

    assert _codes("engagement", inside) == []
    assert _codes("engagement", beyond) == [OUT_OF_RANGE]
    assert _codes("engagement", year_9999) == [OUT_OF_RANGE]


def test_ends_at_far_after_a_valid_start_is_rejected() -> None:
    record = example_engagement(ends_at=YEAR_9999)

    assert _codes("engagement", record) == [OUT_OF_RANGE]


def test_raw_millis_out_of_any_calendar_are_named_not_raised() -> None:
    assert millis_problem(2**62, "starts_at", EXAMPLE_NOW) is not None
    assert millis_problem(-(2**62), "starts_at", EXAMPLE_NOW) is not None
    assert millis_problem(int(EXAMPLE_NOW.timestamp() * 1000), "starts_at", EXAMPLE_NOW) is None


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    moment=st.one_of(
        # The ends of the calendar, where conversions overflow, are rarely drawn at random.
        st.sampled_from([YEAR_1, YEAR_1 + timedelta(hours=3), YEAR_9999]),
        st.datetimes(
            min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
        ),
    ),
    which=st.sampled_from(FIELDS),
)
def test_every_accepted_timestamp_anonymizes_without_raising(
    moment: datetime, which: tuple[str, str, Callable[..., dict[str, Any]]]
) -> None:
    """The attack: an event at any representable instant. Validation either refuses it, or the
    anonymizer handles it; nothing in between may raise (before the bounds, year 1 raised)."""
    kind, field, build = which
    name = field.split()[0]
    overrides: dict[str, Any] = {name: moment}
    if name == "reported_at":
        overrides["occurred_at"] = min(moment, EXAMPLE_NOW - timedelta(days=1))
    record = build(**overrides)

    if not validate(kind, record, CTX):
        anonymize(kind, record, ACTX)
