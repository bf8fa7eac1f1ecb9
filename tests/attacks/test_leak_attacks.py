"""What a resident finds in the public files, the feeds and the public topics (issue 9).

* Withdrawals (items 3, 8): three public incidents leave for three reasons (confidential,
  unfounded, juvenile) and must look alike; a confidential incident revised while still
  confidential must leave no public trace at all. Before this change its revision 2 produced a
  public withdrawn marker with a never-seen public id on the public topic (the attack succeeded:
  `test_nothing_is_published_about_a_never_public_id` failed there), and an unfounded incident
  stayed a public row.
* Message timestamps (item 4): public topic messages were stamped with the processing instant,
  seconds after the report; now with local midnight.
* Canaries (item 8): one name in every raw field that holds text; it must reach no public byte.
* Names (items 5, 8): 13 person names that read like organisations, as partners and venues of
  upcoming meetings; before the name registry 10 of them were published. Now only the
  registry's names are, in its spelling, and the others are counted.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from scenario import CANARY, LISTED_PARTNER, LISTED_VENUE, Scenario, public_id

from canaries import NEEDLES, PERSON_NAMES
from openbeat.contracts.codec import SchemaStore
from openbeat.contracts.jurisdiction import load_jurisdiction

pytestmark = [pytest.mark.integration, pytest.mark.timeout(1500)]
LEAVERS = ("withheld", "unfounded", "juvenile")


def _public_records(scenario: Scenario) -> list[dict]:
    schemas = SchemaStore.load()
    return [dict(schemas.decode(m.value).record) for m in scenario.topic_messages]


def test_nothing_is_published_about_a_never_public_id(scenario: Scenario) -> None:
    never = public_id("never-public")
    assert never not in {r["public_id"] for r in _public_records(scenario)}
    for name, data in scenario.public_bytes:
        assert never.encode() not in data, name
    # It is still counted (as withheld) where the suppression rules allow.
    assert any(r["count"] for r in scenario.first.rows["incident-counts"])


def test_public_records_leave_by_one_path_that_does_not_say_why(scenario: Scenario) -> None:
    gone = {public_id(f"leaves-{reason}") for reason in LEAVERS}
    first = {r["public_id"] for r in scenario.first.rows["incidents"]}
    second = {r["public_id"] for r in scenario.second.rows["incidents"]}
    assert gone <= first and not gone & second
    removed = scenario.second.changes["incidents"]
    assert set(removed["ids"]["removed"]) == gone
    markers = [r for r in _public_records(scenario) if r["public_id"] in gone and r["withdrawn"]]
    assert len(markers) == 3
    neutral = [{k: v for k, v in m.items() if k != "public_id"} for m in markers]
    assert neutral[0] == neutral[1] == neutral[2]  # same revision (2), same constants


def test_public_topic_timestamps_are_whole_local_days(scenario: Scenario) -> None:
    zone = load_jurisdiction("sample").zone
    assert scenario.topic_messages
    for message in scenario.topic_messages:
        local = datetime.fromtimestamp(message.timestamp / 1000, zone)
        assert (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)


def test_canary_reaches_no_public_file_feed_or_topic(scenario: Scenario) -> None:
    needles = [CANARY.lower(), "zebulon", "quixotic"]
    for name, data in scenario.public_bytes:
        text = data.decode("utf-8", "replace").lower()
        for needle in needles:
            assert needle not in text, (name, needle)
    for message in scenario.topic_messages:
        text = (message.value or b"").decode("utf-8", "replace").lower()
        assert not any(needle in text for needle in needles), message.topic
    # The scenario published something: rows of every kind and a feed.
    assert scenario.second.rows["incidents"] and scenario.second.rows["engagement-events"]
    assert scenario.second.rows["community-reports"]
    assert any(name.startswith("feeds/") for name, _ in scenario.public_bytes)


def test_person_names_as_partners_and_venues_reach_nothing_public(scenario: Scenario) -> None:
    for name, data in scenario.public_bytes:
        text = data.decode("utf-8", "replace").casefold()
        for needle in NEEDLES:
            assert needle not in text, (name, needle)
    for message in scenario.topic_messages:
        text = (message.value or b"").decode("utf-8", "replace").casefold()
        assert not any(needle in text for needle in NEEDLES), message.topic


def test_registry_names_are_published_and_the_others_counted(scenario: Scenario) -> None:
    rows = [r for r in scenario.second.rows["engagement-events"] if r["status"] == "scheduled"]
    named = [r for r in rows if r["district"] == "D5"]
    assert len(named) == len(PERSON_NAMES)
    for row in named:
        assert row["partners"] == [LISTED_PARTNER, "2 other partners"]
        assert row["venue"] in (LISTED_VENUE, None)
        assert row["block"] == "004XX W MAIN ST"  # nothing after the street type
    assert sum(r["venue"] == LISTED_VENUE for r in named) == len(PERSON_NAMES) // 2
    feeds = dict(scenario.public_bytes)
    meetings = feeds["feeds/meetings.rss"].decode()
    assert LISTED_VENUE in meetings and LISTED_PARTNER in meetings
    assert "2 other partners" in meetings  # the catalogue's words for the count
    [report] = [r for r in scenario.second.rows["community-reports"] if r["district"] == "D5"]
    assert report["block"] == "002XX N ELM ST"
