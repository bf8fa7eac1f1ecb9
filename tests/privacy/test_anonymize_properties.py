"""Property tests: PII planted in every text field of arbitrary raw events never comes out.

Each generated event carries names, phones, e-mails, exact addresses, agency ids, an officer id
and exact coordinates, planted in every free-text field (including venue, partners, topics,
enumerated fields and nested person, reporter, respondent and survey records). Whatever the
anonymizer emits, on either channel, is serialized and searched for each of them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openbeat.contracts.codec import default_store
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.contracts.offenses import load_offense_table
from openbeat.privacy.anonymize import AnonymizeContext, AnonymizeError, Output, anonymize
from openbeat.privacy.blocks import SUFFIXES, is_public_location
from openbeat.privacy.grid import is_cell_centre
from openbeat.privacy.policy import load_policy
from openbeat.privacy.redact import ALLOWED_CAPITALIZED

KEY = b"property-tests-key-0123456789"
JURISDICTION = load_jurisdiction("sample")
OFFENSES = load_offense_table()
POLICY = load_policy()
CONTEXTS = {
    "default": AnonymizeContext(POLICY, KEY, JURISDICTION, OFFENSES),
    "text": AnonymizeContext(
        POLICY.model_copy(update={"publish_report_text": True}), KEY, JURISDICTION, OFFENSES
    ),
}
# Listed in the sample's name registry (published); anything else in a name field is not.
ORGANIZATIONS = ["Eastgate Public Library", "Riverside YMCA", "Westbrook Community Center"]
REGISTRY = JURISDICTION.name_registry
# Street names are public in a block, so they come from their own list, never from the names.
STREETS = ["Maple", "Oak", "Elm", "Lincoln", "Cedar", "Washington"]
# Words of published names (registry entries, streets) are not drawn as a person's name parts.
FIXED_WORDS = {
    w.lower()
    for text in [*REGISTRY.partners.values(), *REGISTRY.venues.values(), *STREETS]
    for w in text.replace("&", " ").split()
}
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


# The redaction markers ([NAME], [EMAIL], ...) are in the output by design.
MARKER_WORDS = {"name", "email", "url", "phone", "address", "plate", "number"}


def _is_plain_name_part(part: str) -> bool:
    lower = part.lower()
    return not (
        lower in MARKER_WORDS
        or lower in ALLOWED_CAPITALIZED
        or lower in FIXED_WORDS
        or part.upper() in SUFFIXES
    )


name_parts = (
    st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=4, max_size=9)
    .map(str.capitalize)
    .filter(_is_plain_name_part)
)
names = st.tuples(name_parts, name_parts).map(" ".join)
area = st.integers(201, 989)
line = st.integers(0, 9999).map(lambda n: f"{n:04d}")
phones = st.builds(
    lambda fmt, a, b, c: fmt.format(a=a, b=b, c=c),
    st.sampled_from(["({a}) {b}-{c}", "{a}-{b}-{c}", "+1 {a} {b} {c}", "{a}.{b}.{c}", "{a}{b}{c}"]),
    area,
    st.integers(200, 999),
    line,
)
emails = st.builds(
    lambda name, n, dom: f"{name.replace(' ', '.').lower()}{n}@{dom}",
    names,
    st.integers(1, 99),
    st.sampled_from(["example.org", "mail.example.com"]),
)
house_numbers = st.integers(100, 99999)
addresses = st.builds(
    lambda n, d, street, suffix, unit: f"{n} {d} {street} {suffix}{unit}",
    house_numbers,
    st.sampled_from(["W", "N", "East", ""]),
    st.sampled_from(STREETS),
    st.sampled_from(["Street", "Ave", "Blvd", "Road"]),
    st.sampled_from(["", " Apt 4B", " #12", " Unit 7"]),
)
agency_ids = st.from_regex(r"[A-Z]{2,4}-20[0-9]{2}-[0-9]{6,8}", fullmatch=True)
officer_ids = st.from_regex(r"OF-[0-9]{5,7}", fullmatch=True)
# Exact coordinates as agencies send them: many decimals, anywhere in the city's box.
lats = st.integers(0, 10**9).map(
    lambda n: JURISDICTION.bbox.min_lat + n / 10**9 * 0.16 + 1.234567e-9
)
lons = st.integers(0, 10**9).map(
    lambda n: JURISDICTION.bbox.min_lon + n / 10**9 * 0.24 + 2.345678e-9
)
moments = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2025, 1, 1), timezones=st.just(UTC)
)


@dataclass
class Planted:
    """What was hidden in an event, to be searched for in every output."""

    strings: set[str] = field(default_factory=set)
    house_numbers: set[str] = field(default_factory=set)
    coordinates: set[float] = field(default_factory=set)


@st.composite
def planted_text(draw: st.DrawFn, planted: Planted) -> str:
    """A sentence mixing plain words with a name, a phone, an e-mail and an address."""
    name, phone, email, address = draw(names), draw(phones), draw(emails), draw(addresses)
    planted.strings.update({name, phone, email, address, *name.split()})
    planted.house_numbers.add(address.split()[0])
    parts = draw(st.permutations([name, f"call {phone}", email, f"at {address}", "saw it"]))
    return " ".join(parts[: draw(st.integers(1, 5))])


@st.composite
def enumerated(draw: st.DrawFn, valid: list[str], planted: Planted) -> str:
    """Usually a valid value; sometimes planted text, which must be rejected or replaced."""
    if draw(st.integers(0, 9)) == 0:
        return str(draw(planted_text(planted)))
    return draw(st.sampled_from(valid))


@st.composite
def people(draw: st.DrawFn, planted: Planted) -> dict[str, Any]:
    name, phone, email, address = draw(names), draw(phones), draw(emails), draw(addresses)
    planted.strings.update({name, phone, email, address})
    return {
        "role": draw(st.sampled_from(["victim", "suspect", "witness"])),
        "name": name,
        "date_of_birth": None,
        "age": draw(st.none() | st.integers(0, 99)),
        "sex": "U",
        "phone": phone,
        "email": email,
        "address": address,
    }


@st.composite
def incidents(draw: st.DrawFn) -> tuple[dict[str, Any], Planted]:
    planted = Planted()
    incident_id, officer = draw(agency_ids), draw(officer_ids)
    lat, lon = draw(lats), draw(lons)
    planted.strings.update({incident_id, officer})
    planted.coordinates.update({lat, lon})
    occurred = draw(moments)
    raw = {
        "incident_id": incident_id,
        "agency_id": draw(st.sampled_from(["RPD", str(draw(planted_text(planted)))])),
        "revision": draw(st.integers(1, 4)),
        "reported_at": occurred + timedelta(minutes=draw(st.integers(0, 5000))),
        "occurred_at": occurred,
        "offense_code": draw(enumerated(sorted(OFFENSES.codes), planted)),
        "offense_description": draw(planted_text(planted)),
        "status": draw(enumerated(["open", "closed", "cleared_arrest"], planted)),
        "address": draw(st.one_of(addresses, planted_text(planted), st.none())),
        "latitude": lat,
        "longitude": lon,
        "district": draw(st.sampled_from(sorted(JURISDICTION.district_ids))),
        "narrative": draw(planted_text(planted)),
        "persons": draw(st.lists(people(planted), max_size=3)),
        "juvenile_involved": draw(st.booleans()),
        "domestic": draw(st.booleans()),
        "confidential": draw(st.booleans()),
        "officer_id": officer,
        "beat": draw(planted_text(planted)),
        "source_system": draw(planted_text(planted)),
    }
    for address in planted.strings & {raw["address"]}:
        planted.house_numbers.add(address.split()[0])
    return raw, planted


@st.composite
def reports(draw: st.DrawFn) -> tuple[dict[str, Any], Planted]:
    planted = Planted()
    report_id = draw(agency_ids)
    lat, lon = draw(lats), draw(lons)
    planted.strings.add(report_id)
    planted.coordinates.update({lat, lon})
    reporter_name, phone, email = draw(names), draw(phones), draw(emails)
    planted.strings.update({reporter_name, phone, email})
    raw = {
        "report_id": report_id,
        "agency_id": "RPD",
        "submitted_at": draw(moments),
        "channel": draw(enumerated(["web", "app", "phone"], planted)),
        "category": draw(enumerated(["noise", "tip", "suspicious_activity"], planted)),
        "description": draw(planted_text(planted)),
        "address": draw(st.one_of(addresses, planted_text(planted), st.none())),
        "latitude": lat,
        "longitude": lon,
        "district": draw(st.sampled_from(sorted(JURISDICTION.district_ids))),
        "reporter": {"name": reporter_name, "phone": phone, "email": email},
        "anonymous": draw(st.booleans()),
    }
    return raw, planted


@st.composite
def engagements(draw: st.DrawFn) -> tuple[dict[str, Any], Planted]:
    planted = Planted()
    engagement_id = draw(agency_ids)
    planted.strings.add(engagement_id)
    respondent, email = draw(names), draw(emails)
    planted.strings.update({respondent, email})
    starts = draw(moments)
    kind = draw(
        enumerated(["community_meeting", "patrol_walk", "forum", "survey_response"], planted)
    )
    raw = {
        "engagement_id": engagement_id,
        "agency_id": "RPD",
        "revision": draw(st.integers(1, 3)),
        "kind": kind,
        "status": draw(enumerated(["scheduled", "held", "cancelled"], planted)),
        "starts_at": starts,
        "ends_at": draw(st.none() | st.just(starts + timedelta(hours=2))),
        "district": draw(st.sampled_from(sorted(JURISDICTION.district_ids))),
        "venue_name": draw(st.one_of(st.sampled_from(ORGANIZATIONS), planted_text(planted))),
        "venue_address": draw(st.one_of(addresses, planted_text(planted), st.none())),
        "public": draw(st.booleans()),
        "attendee_count": draw(st.none() | st.integers(0, 500)),
        "partner_organizations": draw(
            st.lists(st.one_of(st.sampled_from(ORGANIZATIONS), planted_text(planted)), max_size=3)
        ),
        "topics": draw(
            st.lists(st.one_of(st.just("traffic safety"), planted_text(planted)), max_size=3)
        ),
        "survey": {
            "trust_score": draw(st.integers(1, 5)),
            "safety_score": draw(st.integers(1, 5)),
            "comment": draw(planted_text(planted)),
        },
        "respondent": {"name": respondent, "email": email, "age_band": "25-34"},
    }
    if raw["venue_address"] in planted.strings:
        planted.house_numbers.add(raw["venue_address"].split()[0])
    return raw, planted


def run(kind: str, raw: dict[str, Any], ctx_name: str) -> list[Output]:
    try:
        return anonymize(kind, raw, CONTEXTS[ctx_name])
    except AnonymizeError:
        return []  # dead-lettered: nothing is published


def text_values(value: Any) -> list[str]:
    """Every string of an output record except the pseudonym and the NIBRS code (`100` is
    kidnapping, not a house number)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        skip = {"public_id", "offense_code"}
        return [s for k, v in value.items() if k not in skip for s in text_values(v)]
    if isinstance(value, list):
        return [s for v in value for s in text_values(v)]
    return []


def floats(value: Any) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for v in value.values() for f in floats(v)]
    if isinstance(value, list):
        return [f for v in value for f in floats(v)]
    return []


def assert_nothing_leaks(outputs: list[Output], raw: dict[str, Any], planted: Planted) -> None:
    for out in outputs:
        assert list(out.record) == [
            f["name"] for f in default_store().latest(out.full_name).parsed["fields"]
        ]
        default_store().encode(out.full_name, out.record)
        blob = json.dumps(out.record, default=str)
        for secret in planted.strings:
            assert secret not in blob, f"{secret!r} leaked into {out.full_name}"
            assert secret.upper() not in blob, f"{secret!r} leaked in capitals"
        for text in text_values(out.record):
            # A block prefix (710XX) is the hundred of the published address: not a number.
            runs = set(re.findall(r"(?<!\d)\d+(?!\d)(?!XX)", text))
            assert not runs & planted.house_numbers, f"house number leaked: {text!r}"
        for number in floats(out.record):
            assert number not in planted.coordinates
        assert out.key in JURISDICTION.district_ids
        rec = out.record
        if out.channel == "public" and "location_precision" in rec:
            block = rec["block"]
            assert block is None or is_public_location(block)
            assert (block is None) == (rec["location_precision"] == "district")
            if rec["latitude"] is not None:
                assert is_cell_centre(rec["latitude"], rec["longitude"], POLICY.grid_cell_m)
                assert rec["location_precision"] != "district"
        if out.full_name.endswith("PublicEngagement") and rec["block"] is not None:
            assert is_public_location(rec["block"])


@SETTINGS
@given(incidents(), st.sampled_from(list(CONTEXTS)))
def test_incidents_leak_nothing(case: tuple[dict[str, Any], Planted], ctx_name: str) -> None:
    raw, planted = case
    outputs = run("incident", raw, ctx_name)
    assert_nothing_leaks(outputs, raw, planted)
    public = [o.record for o in outputs if o.channel == "public" and not o.record["withdrawn"]]
    if raw["juvenile_involved"] or raw["confidential"]:
        assert public == []  # withheld: at most a withdrawn marker
    offense = OFFENSES.get(raw["offense_code"])
    if public and (raw["domestic"] or (offense is not None and offense.sensitive)):
        [rec] = public
        assert rec["block"] is None and rec["latitude"] is None and rec["occurred_hour"] is None


@SETTINGS
@given(reports(), st.sampled_from(list(CONTEXTS)))
def test_reports_leak_nothing(case: tuple[dict[str, Any], Planted], ctx_name: str) -> None:
    raw, planted = case
    outputs = run("report", raw, ctx_name)
    assert_nothing_leaks(outputs, raw, planted)
    if ctx_name == "default":
        assert all(o.record["description"] is None for o in outputs)


@SETTINGS
@given(engagements())
def test_engagements_leak_nothing(case: tuple[dict[str, Any], Planted]) -> None:
    raw, planted = case
    outputs = run("engagement", raw, "default")
    assert_nothing_leaks(outputs, raw, planted)
    public = [o for o in outputs if o.channel == "public" and not o.record["withdrawn"]]
    if raw["kind"] == "survey_response" or not raw["public"]:
        assert public == []
    assert all(o.full_name.endswith("SurveyResponse") for o in outputs if o.channel == "restricted")


@SETTINGS
@given(incidents())
def test_pseudonyms_are_stable_and_key_dependent(case: tuple[dict[str, Any], Planted]) -> None:
    raw, _ = case
    first = run("incident", raw, "default")
    assert first == run("incident", raw, "default")
    other = AnonymizeContext(POLICY, b"some-other-key-0123456789", JURISDICTION, OFFENSES)
    try:
        moved = anonymize("incident", raw, other)
    except AnonymizeError:
        return
    assert {o.record["public_id"] for o in first}.isdisjoint(o.record["public_id"] for o in moved)
