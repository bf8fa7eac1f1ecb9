"""Incidents with several offenses (raw incident v3): one primary offense, any-offense privacy.

The attack this guards against: an export lists an incident once per offense and the first row
is a harmless offense. Publishing the incident under that row (today's "first row wins") shows
the block, the grid point and the hour of a domestic-violence or sex offense. Whatever the
order of the offenses, the incident is sensitive, withheld or relocated if ANY offense or flag
says so, and its primary offense is the most serious one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from openbeat.contracts.examples import example_incident
from openbeat.contracts.offenses import OffenseTable, incident_offenses, load_offense_table
from openbeat.privacy.anonymize import (
    PUBLIC_INCIDENT,
    WITHHELD_INCIDENT,
    AnonymizeContext,
    anonymize,
)
from openbeat.privacy.withdrawal import resolve

OFFENSES = load_offense_table()
CODES = sorted(OFFENSES.codes)
SETTINGS = settings(max_examples=300, deadline=None)


def offense(code: str) -> dict[str, Any]:
    return {"code": code, "description": f"agency words for {code}", "completion": None}


def v3_incident(codes: list[str], **overrides: Any) -> dict[str, Any]:
    """A v3 incident listing `codes` as its offenses (no legacy offense_code)."""
    fields = {"offense_code": None, "offense_description": None, "persons": []}
    return example_incident(offenses=[offense(c) for c in codes], **{**fields, **overrides})


def public(outputs: list[Any]) -> dict[str, Any] | None:
    found = [o.record for o in resolve(outputs, False) if o.full_name == PUBLIC_INCIDENT]
    return found[0] if found else None


def test_first_row_harmless_second_rape_is_published_without_place_or_hour(
    ctx: AnonymizeContext,
) -> None:
    # The attack: with only the first offense (23F theft from a vehicle), the record would carry
    # a block, a grid point and an hour. The rape (11A) must make the whole incident sensitive.
    alone = public(anonymize("incident", v3_incident(["23F"]), ctx))
    assert alone is not None and alone["block"] and alone["latitude"] and alone["occurred_hour"]
    record = public(anonymize("incident", v3_incident(["23F", "11A"]), ctx))
    assert record is not None
    assert (record["block"], record["latitude"], record["longitude"]) == (None, None, None)
    assert record["occurred_hour"] is None and record["location_precision"] == "district"
    assert (record["offense_code"], record["category"]) == ("11A", "sex offense")
    assert record["offense_count"] == 2 and record["offense_codes"] == []


def test_the_agency_sensitive_flag_relocates_whatever_the_offenses(ctx: AnonymizeContext) -> None:
    record = public(anonymize("incident", v3_incident(["13B"], sensitive=True), ctx))
    assert record is not None and record["block"] is None and record["occurred_hour"] is None


def test_a_legacy_offense_code_beside_offenses_counts_too(ctx: AnonymizeContext) -> None:
    record = public(anonymize("incident", v3_incident(["23F"], offense_code="11D"), ctx))
    assert record is not None and record["block"] is None and record["offense_count"] == 2


def test_juvenile_flag_withholds_the_incident(ctx: AnonymizeContext) -> None:
    outputs = anonymize("incident", v3_incident(["23F", "13B"], juvenile_involved=True), ctx)
    assert [o.full_name for o in resolve(outputs, was_public=False)] == [WITHHELD_INCIDENT]
    # counted under its primary offense
    assert resolve(outputs, False)[0].record["category"] == "assault"


def test_every_code_is_published_only_when_the_policy_says_so(
    make_ctx: Callable[..., AnonymizeContext],
) -> None:
    rec = v3_incident(["290", "23F", "13B"])
    default = public(anonymize("incident", rec, make_ctx()))
    listed = public(anonymize("incident", rec, make_ctx(publish_all_offense_codes=True)))
    assert default is not None and default["offense_codes"] == []
    assert listed is not None and listed["offense_codes"] == ["13B", "23F", "290"]


def test_older_versions_read_as_one_offense() -> None:
    v1_style = {"offense_code": "120", "offense_description": "ROBBERY"}
    assert incident_offenses(v1_style) == [
        {"code": "120", "description": "ROBBERY", "completion": None}
    ]


def test_seriousness_order_is_persons_then_property_then_society() -> None:
    table: OffenseTable = OFFENSES
    assert table.primary(["35A", "23F", "13B"]).code == "13B"  # society, property, person
    assert table.primary(["35A", "220"]).code == "220"
    assert table.primary(["13B", "09A", "11A"]).code == "09A"  # inside persons: table order
    assert table.by_seriousness(["23F", "120", "23F"]) == ["120", "23F"]


@st.composite
def incidents(draw: st.DrawFn) -> tuple[dict[str, Any], list[str]]:
    codes = draw(st.lists(st.sampled_from(CODES), min_size=1, max_size=6))
    flags = {
        name: draw(st.booleans())
        for name in ("domestic", "sensitive", "juvenile_involved", "confidential")
    }
    split = draw(st.integers(min_value=0, max_value=len(codes)))
    # Some offenses in the v3 list, maybe one in the legacy field: every place counts.
    listed, legacy = codes[:split] or codes, codes[split:][:1]
    record = v3_incident(listed, offense_code=legacy[0] if legacy else None, **flags)
    return record, sorted(set(listed) | set(legacy))


@SETTINGS
@given(case=incidents(), order=st.randoms(use_true_random=False))
def test_any_offense_or_flag_decides_and_order_never_matters(
    ctx: AnonymizeContext, case: tuple[dict[str, Any], list[str]], order: Any
) -> None:
    record, codes = case
    outputs = anonymize("incident", record, ctx)
    shuffled = dict(record, offenses=order.sample(record["offenses"], len(record["offenses"])))
    assert anonymize("incident", shuffled, ctx) == outputs
    sensitive = (
        record["domestic"] or record["sensitive"] or any(OFFENSES.get(c).sensitive for c in codes)  # type: ignore[union-attr]
    )
    withheld = record["juvenile_involved"] or record["confidential"]
    published = public(outputs)
    if withheld:
        assert published is None
        return
    assert published is not None
    assert published["offense_code"] == OFFENSES.by_seriousness(codes)[0]
    assert published["offense_count"] == len(codes)
    if sensitive:
        assert published["block"] is None and published["latitude"] is None
        assert published["longitude"] is None and published["occurred_hour"] is None
    else:
        assert published["occurred_hour"] is not None
