"""Semantic validation (SPEC 3): each rule rejects what it should and accepts its boundary."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import FrozenInstanceError
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from openbeat.contracts import validation as validation_module
from openbeat.contracts.examples import (
    EXAMPLE_NOW,
    example_engagement,
    example_incident,
    example_person,
    example_report,
    example_survey_response,
)
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.contracts.offenses import load_offense_table
from openbeat.contracts.validation import (
    Failure,
    ValidationContext,
    dead_letter_reason,
    validate,
)

CTX = ValidationContext(
    jurisdiction=load_jurisdiction("sample"),
    offenses=load_offense_table(),
    now=EXAMPLE_NOW,
    future_skew=timedelta(minutes=5),
)
LATER = EXAMPLE_NOW + timedelta(hours=1)
BUILDERS: dict[str, Callable[..., dict[str, Any]]] = {
    "incident": example_incident,
    "report": example_report,
    "engagement": example_engagement,
    "survey": example_survey_response,
}


def _check(builder: str, /, **overrides: Any) -> list[Failure]:
    record = BUILDERS[builder](**overrides)
    return validate("engagement" if builder == "survey" else builder, record, CTX)


@pytest.mark.parametrize("kind", sorted(BUILDERS))
def test_examples_are_valid(kind: str) -> None:
    assert _check(kind) == []


# (kind, overrides, expected code, expected field) -- each row breaks exactly one rule.
FAILING = [
    ("incident", {"offense_code": None, "offenses": []}, "no_offense", "offenses"),
    (
        "incident",
        {"offenses": [{"code": "13B", "description": None, "completion": "nearly"}]},
        "invalid_completion",
        "offenses[0].completion",
    ),
    (
        "incident",
        {"offenses": [{"code": "13B", "description": None, "completion": None}, {"code": "XX"}]},
        "unknown_offense_code",
        "offenses[1].code",
    ),
    ("incident", {"incident_id": ""}, "empty_id", "incident_id"),
    ("incident", {"agency_id": "  "}, "empty_id", "agency_id"),
    ("incident", {"incident_id": "RPD:1"}, "invalid_id", "incident_id"),
    ("report", {"agency_id": "A:B"}, "invalid_id", "agency_id"),
    ("engagement", {"engagement_id": ""}, "empty_id", "engagement_id"),
    ("incident", {"revision": 0}, "invalid_revision", "revision"),
    ("engagement", {"revision": -1}, "invalid_revision", "revision"),
    ("incident", {"reported_at": LATER}, "timestamp_in_future", "reported_at"),
    ("report", {"submitted_at": LATER}, "timestamp_in_future", "submitted_at"),
    ("survey", {"starts_at": LATER}, "timestamp_in_future", "starts_at"),
    (
        "engagement",
        {"status": "held", "starts_at": LATER, "ends_at": None},
        "timestamp_in_future",
        "starts_at",
    ),
    (
        "incident",
        {"occurred_at": datetime(2024, 5, 1, 15, 0, tzinfo=UTC)},
        "occurred_after_reported",
        "occurred_at",
    ),
    (
        "incident",
        {"reported_at": datetime(2024, 5, 1, 14, 30)},  # naive: not UTC
        "timestamp_not_utc",
        "reported_at",
    ),
    (
        "engagement",
        {"ends_at": datetime(2024, 4, 30, 22, 0, tzinfo=UTC)},
        "ends_before_starts",
        "ends_at",
    ),
    (
        "incident",
        {"latitude": 47.6, "longitude": -122.3},
        "coordinates_outside_jurisdiction",
        "latitude",
    ),
    (
        "report",
        {"latitude": -88.28, "longitude": 41.53},
        "coordinates_outside_jurisdiction",
        "latitude",
    ),
    ("incident", {"latitude": float("nan")}, "coordinates_outside_jurisdiction", "latitude"),
    ("incident", {"longitude": None}, "coordinates_incomplete", "longitude"),
    ("report", {"latitude": None}, "coordinates_incomplete", "latitude"),
    ("incident", {"district": "D9"}, "unknown_district", "district"),
    ("engagement", {"district": "../etc"}, "unknown_district", "district"),
    ("incident", {"offense_code": "13a"}, "unknown_offense_code", "offense_code"),
    ("incident", {"offense_code": "THEFT"}, "unknown_offense_code", "offense_code"),
    ("incident", {"status": "solved"}, "invalid_status", "status"),
    ("engagement", {"status": "postponed"}, "invalid_status", "status"),
    ("engagement", {"kind": "barbecue"}, "invalid_kind", "kind"),
    ("report", {"channel": "fax"}, "invalid_channel", "channel"),
    ("report", {"category": "Noise - Residential"}, "invalid_category", "category"),
    ("report", {"category": ""}, "invalid_category", "category"),
    ("engagement", {"attendee_count": -3}, "negative_attendee_count", "attendee_count"),
    ("survey", {"survey": None}, "survey_missing", "survey"),
    (
        "engagement",
        {"survey": {"trust_score": 3, "safety_score": 3, "comment": None}},
        "unexpected_survey",
        "survey",
    ),
    (
        "survey",
        {"survey": {"trust_score": 0, "safety_score": 3, "comment": None}},
        "score_out_of_range",
        "survey.trust_score",
    ),
    (
        "survey",
        {"survey": {"trust_score": 3, "safety_score": 6, "comment": None}},
        "score_out_of_range",
        "survey.safety_score",
    ),
    (
        "incident",
        {"persons": [example_person(role="bystander")]},
        "invalid_role",
        "persons[0].role",
    ),
    (
        "incident",
        {"persons": [example_person(), example_person(sex="female")]},
        "invalid_sex",
        "persons[1].sex",
    ),
    ("incident", {"persons": [example_person(age=-1)]}, "invalid_age", "persons[0].age"),
]


@pytest.mark.parametrize(("kind", "overrides", "code", "field"), FAILING)
def test_each_rule_rejects_exactly_its_problem(
    kind: str, overrides: dict[str, Any], code: str, field: str
) -> None:
    failures = _check(kind, **overrides)
    assert [(f.code, f.field) for f in failures] == [(code, field)]
    message = failures[0].message
    assert field.split(".")[-1].split("[")[0] in message  # names the field
    assert message.endswith(".") and "\n" not in message  # one sentence


# Boundary cases that must pass: the rule is not stricter than documented.
PASSING = [
    ("incident", {"reported_at": EXAMPLE_NOW + timedelta(minutes=4)}),  # within the skew
    ("incident", {"occurred_at": datetime(2024, 5, 1, 14, 34, tzinfo=UTC)}),  # after, within skew
    ("incident", {"latitude": None, "longitude": None}),  # no point: district only
    ("incident", {"latitude": 41.40, "longitude": -88.16}),  # bbox corner
    ("incident", {"offense_code": "90A"}),  # retired but known
    ("incident", {"persons": []}),
    ("incident", {"persons": [example_person(sex=None, age=None, role="arrestee")]}),
    ("incident", {"reported_at": datetime(2024, 5, 1, 9, 30, tzinfo=UTC) + timedelta(hours=5)}),
    (
        "engagement",
        {"status": "scheduled", "starts_at": EXAMPLE_NOW + timedelta(days=10), "ends_at": None},
    ),
    ("engagement", {"ends_at": datetime(2024, 4, 30, 23, 0, tzinfo=UTC)}),  # zero length
    ("engagement", {"attendee_count": 0}),
    ("engagement", {"attendee_count": None}),
    ("engagement", {"status": "cancelled", "kind": "patrol_walk"}),
    ("survey", {"survey": {"trust_score": 1, "safety_score": 5, "comment": None}}),
    ("report", {"channel": "walk_in", "category": "tip"}),
    ("report", {"agency_id": "RPD-North_2"}),
]


@pytest.mark.parametrize(("kind", "overrides"), PASSING)
def test_boundaries_are_accepted(kind: str, overrides: dict[str, Any]) -> None:
    assert _check(kind, **overrides) == []


def test_every_failure_code_is_exercised() -> None:
    """A rule added to validation.py without a failing case here makes this test fail."""
    source = Path(validation_module.__file__).read_text(encoding="utf-8")
    codes = set(re.findall(r'Failure\(\s*"([a-z_]+)"', source))
    codes |= set(re.findall(r'_check_enum\([^)]*?"([a-z_]+)", out\)', source))
    assert {"invalid_status", "invalid_kind", "invalid_channel", "empty_id"} <= codes
    # wrong_type only guards records that bypassed the decoders (not datetimes at all).
    assert codes - {"wrong_type"} <= {row[2] for row in FAILING}


def test_several_problems_are_all_reported() -> None:
    failures = _check("incident", district="D9", offense_code="XXX", status="?")
    assert {f.code for f in failures} == {
        "unknown_district",
        "unknown_offense_code",
        "invalid_status",
    }
    code, detail = dead_letter_reason(failures)
    assert code == failures[0].code
    assert all(f.message in detail for f in failures)


def test_messages_never_repeat_coordinates_or_personal_data() -> None:
    failures = _check("incident", latitude=47.612345, longitude=-122.334455)
    assert "47.61" not in failures[0].message and "122.33" not in failures[0].message
    failures = _check("incident", persons=[example_person(age=999)])
    assert "999" not in failures[0].message


def test_long_values_are_shortened_in_messages() -> None:
    failures = _check("incident", status="x" * 500)
    assert len(failures[0].message) < 200


def test_failure_is_frozen() -> None:
    failure = Failure("c", "f", "m")
    with pytest.raises(FrozenInstanceError):
        failure.code = "other"  # type: ignore[misc]


def test_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown record kind"):
        validate("parade", {}, CTX)
