"""AlertState: incident alerts by event time, revisions, withdrawals, arrival order, restarts."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from typing import Any

import pytest
from feed_records import NOW, D, H, absorb_all, engagement, incident, jurisdiction, new_state, rules
from hypothesis import given, settings
from hypothesis import strategies as st

from openbeat.feeds.alerts import AlertInputError, AlertState, AlertStateError
from openbeat.feeds.items import FeedItem, item_guid
from openbeat.feeds.objects import feed_objects


def _alert_guids(state: AlertState, now: datetime = NOW) -> list[str]:
    return [i.guid for i in state.items(now, rules()).alerts if i.kind == "incident"]


def _by_guid(state: AlertState, guid: str, now: datetime = NOW) -> FeedItem:
    items = state.items(now, rules())
    return next(i for i in (*items.alerts, *items.meetings) if i.guid == guid)


def test_only_alert_categories_alert() -> None:
    state = new_state()
    state.absorb_incident(incident("rob", NOW - 2 * H, category="robbery"))
    state.absorb_incident(incident("theft", NOW - 2 * H, category="theft"))
    state.absorb_incident(incident("gun", NOW - 3 * H, category="weapons"))
    assert _alert_guids(state) == [item_guid("incident", "rob"), item_guid("incident", "gun")]


def test_alert_window_is_by_event_time() -> None:
    state = new_state()
    state.absorb_incident(incident("fresh", NOW - 6 * D))
    state.absorb_incident(incident("stale", NOW - 8 * D))
    state.absorb_incident(incident("later", NOW + H))  # after `now`: not yet an alert
    assert _alert_guids(state) == [item_guid("incident", "fresh")]
    assert _alert_guids(state, NOW + 2 * H) == [
        item_guid("incident", "later"),
        item_guid("incident", "fresh"),
    ]


def test_unfounded_incidents_do_not_alert() -> None:
    state = new_state()
    state.absorb_incident(incident("x", NOW - H))
    state.absorb_incident(incident("x", NOW - H, revision=2, status="unfounded"))
    assert _alert_guids(state) == []


def test_sensitive_incident_is_dated_local_midnight_without_place() -> None:
    state = new_state()
    state.absorb_incident(incident("dv", None, category="assault", occurred_date=date(2024, 3, 5)))
    item = _by_guid(state, item_guid("incident", "dv"))
    # Midnight in Chicago (CST, UTC-6) on the occurred date.
    assert item.published == datetime(2024, 3, 5, 6, 0, tzinfo=UTC)
    assert item.point is None
    assert "2024-03-05" in item.description
    assert "012XX" not in item.title + item.description
    assert ":00" not in item.description  # no time of day for a date-only incident


def test_point_only_from_generalized_coordinates() -> None:
    state = new_state()
    state.absorb_incident(incident("pt", NOW - H, point=(41.4812, -88.2797)))
    state.absorb_incident(incident("nopt", NOW - 2 * H, point=None))
    stray = incident("stray", NOW - 3 * H)
    stray["location_precision"] = "district"  # district-only record with leftover coordinates
    state.absorb_incident(stray)
    assert _by_guid(state, item_guid("incident", "pt")).point == (41.4812, -88.2797)
    assert _by_guid(state, item_guid("incident", "nopt")).point is None
    assert _by_guid(state, item_guid("incident", "stray")).point is None


def test_highest_revision_wins_whatever_the_arrival_order() -> None:
    state = new_state()
    state.absorb_incident(incident("r", NOW - H, revision=3, status="cleared_arrest"))
    assert state.absorb_incident(incident("r", NOW - H, revision=1, status="open")) is False
    assert "Cleared by arrest" in _by_guid(state, item_guid("incident", "r")).description


def test_withdrawn_removes_and_late_lower_revision_does_not_resurrect() -> None:
    state = new_state()
    state.absorb_incident(incident("w", NOW - H, revision=2, withdrawn=True))
    state.absorb_incident(incident("w", NOW - H, revision=1))
    assert _alert_guids(state) == []
    state.absorb_incident(incident("w", NOW - H, revision=3))
    assert _alert_guids(state) == [item_guid("incident", "w")]


def test_malformed_records_are_refused_with_the_field() -> None:
    state = new_state()
    bad = incident("b", NOW - H)
    del bad["district"]
    with pytest.raises(AlertInputError, match="district"):
        state.absorb_incident(bad)
    naive = engagement("m", datetime(2024, 3, 6, 18))
    with pytest.raises(AlertInputError, match="starts_at"):
        state.absorb_engagement(naive)
    assert len(state) == 0


def _scenario() -> list[tuple[str, dict[str, Any]]]:
    """Incidents with revisions, a withdrawal, duplicates, a spike and meetings that change."""
    events: list[tuple[str, dict[str, Any]]] = [
        ("incident", incident("a", NOW - 2 * H)),
        ("incident", incident("a", NOW - 2 * H, revision=2, status="closed")),
        ("incident", incident("a", NOW - 2 * H, revision=2, status="closed")),  # redelivery
        # A conflicting record with the same revision (a producer bug): still one winner.
        ("incident", incident("a", NOW - 2 * H, revision=2, status="cleared_arrest")),
        ("incident", incident("b", NOW - 30 * H, category="theft", district="D3")),
        ("incident", incident("b", NOW - 5 * H, revision=2, category="burglary", district="D3")),
        ("incident", incident("c", NOW - 4 * H, district="D2")),
        ("incident", incident("c", NOW - 4 * H, district="D2", revision=2, withdrawn=True)),
        ("incident", incident("s", None, category="assault", occurred_date=date(2024, 3, 5))),
        ("engagement", engagement("m1", NOW + 2 * D)),
        ("engagement", engagement("m1", NOW + 2 * D, revision=2, status="cancelled")),
        ("engagement", engagement("m2", NOW + 3 * D)),
        ("engagement", engagement("m2", NOW + 4 * D, revision=2)),
        ("engagement", engagement("m3", NOW + 5 * D, withdrawn=True)),
    ]
    # Six incidents in D4 within hours: a spike over an empty baseline.
    events += [
        (
            "incident",
            incident(f"sp{i}", NOW - (10 - i) * H, category="theft", district="D4"),
        )
        for i in range(6)
    ]
    return events


def _all_bytes(state: AlertState, now: datetime = NOW) -> dict[str, bytes]:
    return {o.key: o.data for o in feed_objects(state, now, rules(), jurisdiction())}


def test_any_arrival_order_gives_identical_state_and_feeds() -> None:
    events = _scenario()
    reference = absorb_all(new_state(), events)
    expected_state, expected_feeds = reference.to_bytes(), _all_bytes(reference)
    kinds = {i.kind for i in reference.items(NOW, rules()).alerts}
    assert kinds == {"incident", "spike"}  # the scenario exercises both alert rules
    rng = random.Random(20240305)
    for _ in range(25):
        shuffled = events[:]
        rng.shuffle(shuffled)
        state = absorb_all(new_state(), shuffled)
        assert state.to_bytes() == expected_state
        assert _all_bytes(state) == expected_feeds


@settings(max_examples=40, deadline=None)
@given(st.permutations(_scenario()))
def test_permutations_give_the_same_items(events: list[tuple[str, dict[str, Any]]]) -> None:
    reference = absorb_all(new_state(), _scenario()).items(NOW, rules())
    assert absorb_all(new_state(), events).items(NOW, rules()) == reference


def test_checkpoint_round_trip_renders_identical_bytes() -> None:
    state = absorb_all(new_state(), _scenario())
    restored = AlertState.from_bytes(state.to_bytes())
    assert restored.to_bytes() == state.to_bytes()
    assert restored.timezone == state.timezone
    assert _all_bytes(restored) == _all_bytes(state)
    # The restored state keeps absorbing correctly: an old revision still loses.
    restored.absorb_incident(incident("c", NOW - 4 * H, district="D2"))
    assert item_guid("incident", "c") not in _alert_guids(restored)


def test_checkpoint_survives_odd_characters() -> None:
    state = new_state()
    state.absorb_engagement(engagement("m", NOW + D, venue="Hall \ud800\x00 😀 <&>"))
    assert AlertState.from_bytes(state.to_bytes()).to_bytes() == state.to_bytes()


def test_unreadable_checkpoint_is_refused() -> None:
    with pytest.raises(AlertStateError):
        AlertState.from_bytes(b"{not json")
    with pytest.raises(AlertStateError, match="format"):
        AlertState.from_bytes(b'{"format": 99}')


def test_prune_forgets_only_what_no_feed_can_show() -> None:
    state = absorb_all(new_state(), _scenario())
    state.absorb_incident(incident("ancient", NOW - 120 * D))
    state.absorb_engagement(engagement("past", NOW - 60 * D))
    before = _all_bytes(state)
    assert state.prune(NOW, rules()) == 2
    assert _all_bytes(state) == before


def _withdrawn_case(kind: str, state: AlertState) -> tuple[dict, dict, Any]:
    """A recent record of `kind`, the anonymizer's real marker withdrawing it (neutral 1970
    times, privacy.withdrawal), and the state's absorb method for that kind."""
    from openbeat.privacy.withdrawal import engagement_marker, incident_marker

    if kind == "incident":
        return (
            incident("w", NOW - 2 * D, category="robbery"),
            incident_marker("w", 2, "D1"),
            state.absorb_incident,
        )
    return (
        engagement("w", NOW + 3 * D),
        engagement_marker("w", 2, "D1"),
        state.absorb_engagement,
    )


@pytest.mark.parametrize("kind", ["incident", "engagement"])
def test_a_withdrawal_outlives_pruning_so_a_replayed_revision_stays_withdrawn(kind: str) -> None:
    """The anonymizer's real marker (neutral 1970 times, privacy.withdrawal), pruned and then
    the earlier revision replayed, as a restarted alerter replays from its committed offsets:
    the withdrawn record must not come back. Before, the marker's 1970 time had it pruned at the
    first flush and the replay resurrected a withheld incident in the alert feed."""
    state = new_state()
    first, marker, absorb = _withdrawn_case(kind, state)

    def shown() -> list[str]:
        items = state.items(NOW, rules())
        return [
            i.guid for i in (*items.alerts, *items.meetings) if i.kind in ("incident", "meeting")
        ]

    absorb(first)
    assert shown() == [item_guid("incident" if kind == "incident" else "meeting", "w")]
    absorb(marker)
    state.prune(NOW, rules())
    absorb(first)  # the replay, which resumed after the marker's offset
    assert shown() == []
    # Either order of arrival keeps the same withdrawal (the state's contract).
    other = new_state()
    other_absorb = other.absorb_incident if kind == "incident" else other.absorb_engagement
    other_absorb(marker)  # type: ignore[operator]
    other_absorb(first)  # type: ignore[operator]
    assert other.to_bytes() == state.to_bytes()
    restored = AlertState.from_bytes(state.to_bytes())
    restored.absorb_incident(first) if kind == "incident" else restored.absorb_engagement(first)
    assert restored.to_bytes() == state.to_bytes()


@pytest.mark.parametrize("kind", ["incident", "engagement"])
def test_a_pruned_revision_that_moved_back_in_time_keeps_the_one_it_replaced_out(kind: str) -> None:
    """Revision 2 moves the record's time two months back (a corrected occurrence date, a
    meeting's start re-entered), so it falls out of every window and is pruned; then revision 1,
    still recent, is replayed (a restart resumes from the committed offsets, a producer resends).
    It lost to revision 2 and must stay out of the feeds. Before, pruning went by the winner's
    own time alone and the replayed revision came back as a new alert."""
    state = new_state()
    if kind == "incident":
        first = incident("x", NOW - 2 * D, category="robbery")
        moved = incident("x", NOW - 120 * D, category="robbery", revision=2)
        absorb = state.absorb_incident
    else:
        first = engagement("x", NOW + 3 * D)
        moved = engagement("x", NOW - 60 * D, revision=2)
        absorb = state.absorb_engagement  # type: ignore[assignment]

    def shown(s: AlertState) -> list[str]:
        items = s.items(NOW, rules())
        return [i.guid for i in (*items.alerts, *items.meetings) if i.kind != "spike"]

    absorb(first)
    assert shown(state) != []
    absorb(moved)
    assert shown(state) == []
    state.prune(NOW, rules())
    absorb(first)
    assert shown(state) == []
    # The record is kept for as long as the replaced revision could show, then let go.
    restored = AlertState.from_bytes(state.to_bytes())
    assert restored.to_bytes() == state.to_bytes()
    assert restored.prune(NOW + 200 * D, rules()) == 1
    # Either order of arrival gives the same state.
    other = new_state()
    other_absorb = other.absorb_incident if kind == "incident" else other.absorb_engagement
    other_absorb(moved)  # type: ignore[operator]
    other_absorb(first)  # type: ignore[operator]
    assert other.to_bytes() == state.to_bytes()


@pytest.mark.parametrize("kind", ["incident", "engagement"])
def test_a_withdrawal_that_arrives_first_is_remembered_past_pruning(kind: str) -> None:
    """Public topics are keyed by district and a marker by the neutral one, so the marker can
    arrive before the revision it withdraws (another partition, further behind). Pruned at
    once by its neutral 1970 time, it let that revision in afterwards as a new alert: the extra
    item of the alerter restart test, a withheld incident shown with its block and hour. A marker
    is remembered by the day it was published (its message timestamp), then let go."""
    from openbeat.contracts.timebounds import MAX_AHEAD

    published = (NOW - D).timestamp()  # the marker's message timestamp
    state = new_state()
    first, marker, absorb = _withdrawn_case(kind, state)

    def shown(s: AlertState) -> list[str]:
        items = s.items(NOW, rules())
        return [i.guid for i in (*items.alerts, *items.meetings) if i.kind != "spike"]

    absorb(marker, published)
    assert state.prune(NOW, rules()) == 0
    absorb(first, published - 3600)
    assert shown(state) == []
    # The same state as when the revision came first, and it survives a checkpoint.
    other = new_state()
    other_absorb = other.absorb_incident if kind == "incident" else other.absorb_engagement
    other_absorb(first, published - 3600)  # type: ignore[operator]
    other_absorb(marker, published)  # type: ignore[operator]
    assert other.to_bytes() == state.to_bytes()
    assert AlertState.from_bytes(state.to_bytes()).to_bytes() == state.to_bytes()
    # Let go once no earlier version could show any more.
    later = NOW + (200 * D if kind == "incident" else MAX_AHEAD + 60 * D)
    assert state.prune(later, rules()) == 1
