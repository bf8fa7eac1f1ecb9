"""The SPEC 4 rules of `anonymize`, one behaviour per test, on the contracts' example records."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from openbeat.contracts.codec import default_store
from openbeat.contracts.examples import (
    example_engagement,
    example_incident,
    example_report,
    example_survey_response,
)
from openbeat.privacy.anonymize import AnonymizeContext, AnonymizeError, Output, anonymize
from openbeat.privacy.grid import is_cell_centre
from openbeat.privacy.withdrawal import resolve

Make = Callable[..., AnonymizeContext]


def schema_fields(full_name: str) -> list[str]:
    return [f["name"] for f in default_store().latest(full_name).parsed["fields"]]


def check_shape(outputs: list[Output]) -> None:
    """Every output has exactly its schema's fields and encodes with it."""
    for out in outputs:
        assert list(out.record) == schema_fields(out.full_name)
        default_store().encode(out.full_name, out.record)
        assert out.full_name.startswith(f"openbeat.{out.channel}.")


def only(outputs: list[Output], channel: str, was_public: bool = False) -> list[dict[str, Any]]:
    """Records sent on `channel` for an event whose earlier revisions were (not) public."""
    return [o.record for o in resolve(outputs, was_public) if o.channel == channel]


def test_public_incident(ctx: AnonymizeContext) -> None:
    raw = example_incident(
        occurred_at=datetime(2024, 5, 2, 3, 45, 12, tzinfo=UTC),  # 22:45 local on May 1
        reported_at=datetime(2024, 5, 2, 4, 10, tzinfo=UTC),
    )
    outputs = anonymize("incident", raw, ctx)
    check_shape(outputs)
    [out] = outputs
    assert (out.channel, out.key) == ("public", "D1")
    rec = out.record
    assert rec["block"] == "012XX W MAIN ST" and rec["location_precision"] == "block"
    assert rec["occurred_hour"] == datetime(2024, 5, 2, 3, 0, tzinfo=UTC)
    assert rec["occurred_date"] == date(2024, 5, 1)  # the city's date, not UTC's
    assert rec["reported_date"] == date(2024, 5, 1)
    assert (rec["category"], rec["offense_code"], rec["status"]) == ("theft", "23F", "open")
    assert is_cell_centre(rec["latitude"], rec["longitude"], 250)
    assert (rec["latitude"], rec["longitude"]) != (raw["latitude"], raw["longitude"])
    blob = json.dumps(rec, default=str)
    for secret in ("RPD-2024-000123", "O-4711", "Jordan", "laptop", "THEFT FROM", "D1-3"):
        assert secret not in blob


@pytest.mark.parametrize(
    "overrides", [{"offense_code": "11A"}, {"offense_code": "13B", "domestic": True}]
)
def test_sensitive_incidents_show_district_and_date_only(
    ctx: AnonymizeContext, overrides: dict[str, Any]
) -> None:
    [out] = anonymize("incident", example_incident(**overrides), ctx)
    rec = out.record
    assert rec["block"] is None and rec["latitude"] is None and rec["longitude"] is None
    assert rec["location_precision"] == "district"
    assert rec["occurred_hour"] is None
    assert rec["occurred_date"] == date(2024, 5, 1)


def test_policy_can_add_sensitive_codes_or_withhold_them(make_ctx: Make) -> None:
    [out] = anonymize("incident", example_incident(), make_ctx(sensitive={"extra_codes": ["23f"]}))
    assert out.record["block"] is None and out.record["occurred_hour"] is None
    outputs = anonymize(
        "incident", example_incident(offense_code="11A"), make_ctx(sensitive={"withhold": True})
    )
    assert only(outputs, "public") == [] and len(only(outputs, "restricted")) == 1


@pytest.mark.parametrize("flag", ["juvenile_involved", "confidential"])
def test_withheld_incidents_are_restricted_only(ctx: AnonymizeContext, flag: str) -> None:
    outputs = anonymize("incident", example_incident(**{flag: True}), ctx)
    check_shape(outputs)
    assert only(outputs, "public") == []
    [withheld] = only(outputs, "restricted")
    assert withheld["category"] == "theft" and withheld["district"] == "D1"
    assert withheld["withdrawn"] is False
    assert withheld["occurred_date"] == date(2024, 5, 1)


def test_withheld_revision_retracts_earlier_public_revision_without_leaking(
    ctx: AnonymizeContext,
) -> None:
    first = anonymize("incident", example_incident(), ctx)[0].record
    later = anonymize("incident", example_incident(revision=3, confidential=True), ctx)
    check_shape(later)
    assert only(later, "public") == []  # never public before: nothing public at all
    [marker] = only(later, "public", was_public=True)
    [uncounted] = only(later, "restricted", was_public=True)
    assert uncounted["withdrawn"] is True  # once public, never counted as withheld again
    assert marker["public_id"] == first["public_id"]
    assert marker["withdrawn"] is True and marker["revision"] == 3
    other = anonymize(
        "incident",
        example_incident(
            incident_id="X-9",
            revision=2,
            juvenile_involved=True,
            offense_code="120",
            district="D5",
            occurred_at=datetime(2023, 1, 1, tzinfo=UTC),
            reported_at=datetime(2023, 1, 2, tzinfo=UTC),
            status="closed",
        ),
        ctx,
    )
    [other_marker] = only(other, "public", was_public=True)
    # Two unrelated withheld incidents give markers that differ in public_id and revision only.
    strip = {"public_id", "revision"}
    assert {k: v for k, v in marker.items() if k not in strip} == {
        k: v for k, v in other_marker.items() if k not in strip
    }


def test_unfounded_incidents_leave_by_the_same_path_and_are_not_counted(
    ctx: AnonymizeContext, make_ctx: Make
) -> None:
    withheld = anonymize("incident", example_incident(revision=2, confidential=True), ctx)
    unfounded = anonymize("incident", example_incident(revision=2, status="unfounded"), ctx)
    assert only(unfounded, "public") == []  # never public: nothing about it, ever
    [marker] = only(unfounded, "public", was_public=True)
    assert marker == only(withheld, "public", was_public=True)[0]  # the marker says not why
    for was_public in (False, True):
        assert [r["withdrawn"] for r in only(unfounded, "restricted", was_public)] == [True]
    kept = anonymize(
        "incident", example_incident(status="unfounded"), make_ctx(publish_unfounded=True)
    )
    assert only(kept, "public")[0]["status"] == "unfounded"


def test_public_revision_uncounts_an_earlier_withheld_one(ctx: AnonymizeContext) -> None:
    outputs = anonymize("incident", example_incident(revision=2), ctx)
    check_shape(outputs)
    [public] = only(outputs, "public")
    [uncount] = only(outputs, "restricted")
    assert public["withdrawn"] is False
    assert uncount["withdrawn"] is True and uncount["public_id"] == public["public_id"]


def test_policy_may_publish_juvenile_incidents(make_ctx: Make) -> None:
    ctx = make_ctx(withhold={"juvenile": False})
    outputs = anonymize("incident", example_incident(juvenile_involved=True), ctx)
    assert len(only(outputs, "public")) == 1


def test_day_truncation_and_dropped_address(make_ctx: Make) -> None:
    ctx = make_ctx(
        time_truncation="day",
        dropped_fields=[*make_ctx().policy.dropped_fields, "incident.address"],
    )
    [out] = anonymize("incident", example_incident(), ctx)
    assert out.record["occurred_hour"] is None
    assert out.record["block"] is None and out.record["latitude"] is None
    [report] = anonymize("report", example_report(), ctx)
    assert report.record["submitted_hour"] == datetime(2024, 5, 1, 5, 0, tzinfo=UTC)  # local 00:00


@pytest.mark.parametrize(
    ("kind", "record", "code"),
    [
        ("incident", example_incident(district="D99"), "unknown_district"),
        ("incident", example_incident(offense_code="ZZZ"), "unknown_offense_code"),
        ("incident", example_incident(status="Jane Doe"), "unknown_status"),
        ("engagement", example_engagement(kind="party"), "unknown_kind"),
        ("engagement", example_survey_response(survey=None), "missing_survey"),
        (
            "engagement",
            example_survey_response(survey={"trust_score": 9, "safety_score": 1, "comment": None}),
            "score_out_of_range",
        ),
        ("person", {}, "unknown_kind"),
    ],
)
def test_unsafe_records_are_errors_for_the_dead_letter(
    ctx: AnonymizeContext, kind: str, record: dict[str, Any], code: str
) -> None:
    with pytest.raises(AnonymizeError) as err:
        anonymize(kind, record, ctx)
    assert err.value.code == code


def test_report_text_is_not_published_by_default(ctx: AnonymizeContext) -> None:
    outputs = anonymize("report", example_report(), ctx)
    check_shape(outputs)
    [out] = outputs
    rec = out.record
    assert rec["description"] is None
    assert rec["block"] == "002XX N ELM ST"
    assert rec["submitted_hour"] == datetime(2024, 5, 1, 21, 0, tzinfo=UTC)
    assert (rec["channel"], rec["category"]) == ("web", "suspicious_activity")
    assert "Sam" not in json.dumps(rec, default=str)


def test_report_text_when_enabled_is_redacted(make_ctx: Make) -> None:
    ctx = make_ctx(publish_report_text=True)
    raw = example_report(description="Someone named Jake Miller at 1420 W Maple St, call 555-0100")
    [out] = anonymize("report", raw, ctx)
    text = out.record["description"]
    assert text is not None and text.startswith("Someone named [NAME]")
    for secret in ("Jake", "Miller", "1420", "0100"):
        assert secret not in text


def test_report_free_text_enumerations_fall_back_to_other(ctx: AnonymizeContext) -> None:
    raw = example_report(channel="Jane's phone", category="jane_doe_is_a_thief")
    [out] = anonymize("report", raw, ctx)
    assert (out.record["channel"], out.record["category"]) == ("other", "other")


def test_public_engagement(ctx: AnonymizeContext) -> None:
    raw = example_engagement(
        partner_organizations=[
            "eastgate  neighbors association.",
            "Jane Doe",
            "jane@example.org Club",
            "Eastgate Neighbors Association",
        ],
        topics=["Traffic Safety", "Jane Doe's divorce"],
    )
    outputs = anonymize("engagement", raw, ctx)
    check_shape(outputs)
    [out] = outputs
    rec = out.record
    assert out.key == "D3"
    assert rec["venue"] == "Eastgate Public Library" and rec["block"] == "003XX E OAK AVE"
    assert rec["starts_at"] == raw["starts_at"]  # public events keep their time
    # The registry's spelling once, then the unlisted ones as a count (privacy/names.py).
    assert rec["partners"] == ["Eastgate Neighbors Association", "2 other partners"]
    assert rec["topics"] == ["traffic_safety"]
    assert rec["attendee_count"] == 27


def test_a_private_venue_name_is_not_published(ctx: AnonymizeContext) -> None:
    [out] = anonymize("engagement", example_engagement(venue_name="Home of Jane Doe"), ctx)
    assert out.record["venue"] is None


def test_private_events_are_not_published(ctx: AnonymizeContext) -> None:
    assert resolve(anonymize("engagement", example_engagement(public=False), ctx), False) == []
    outputs = anonymize("engagement", example_engagement(public=False, revision=2), ctx)
    check_shape(outputs)
    assert resolve(outputs, was_public=False) == []
    [marker] = resolve(outputs, was_public=True)
    assert marker.record["withdrawn"] is True
    assert marker.record["venue"] is None and marker.record["partners"] == []
    assert marker.record["starts_at"] == datetime(1970, 1, 1, tzinfo=UTC)


def test_survey_responses_are_restricted_scores_only(ctx: AnonymizeContext) -> None:
    outputs = anonymize("engagement", example_survey_response(public=True), ctx)
    check_shape(outputs)
    [out] = outputs
    assert out.channel == "restricted"
    assert out.record["trust_score"] == 4 and out.record["safety_score"] == 3
    assert out.record["responded_date"] == date(2024, 4, 30)  # 00:35 UTC is the evening before
    blob = json.dumps(out.record, default=str)
    assert "Alex" not in blob and "patrols" not in blob and "25-34" not in blob


def test_pseudonyms_separate_kinds_and_keys(ctx: AnonymizeContext, make_ctx: Make) -> None:
    incident = anonymize("incident", example_incident(incident_id="SAME"), ctx)[0].record
    report = anonymize("report", example_report(report_id="SAME", agency_id="RPD"), ctx)[0].record
    assert incident["public_id"] != report["public_id"]
    other_key = AnonymizeContext(
        ctx.policy, b"another-key-0123456789", ctx.jurisdiction, ctx.offenses
    )
    again = anonymize("incident", example_incident(incident_id="SAME"), other_key)[0].record
    assert again["public_id"] != incident["public_id"]
