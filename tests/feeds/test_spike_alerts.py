"""Spike alerts: minimum count, baseline factor, and a guid that survives a continuing spike."""

from __future__ import annotations

from datetime import UTC, datetime

from feed_records import NOW, D, H, incident, new_state, rules

from openbeat.feeds.alerts import AlertState
from openbeat.feeds.items import FeedItem, item_guid
from openbeat.feeds.rules import SpikeRule


def _spikes(state: AlertState, now: datetime = NOW, **spike: float) -> list[FeedItem]:
    rule = rules(spike=SpikeRule.model_validate(spike)) if spike else rules()
    return [i for i in state.items(now, rule).alerts if i.kind == "spike"]


def _add(state: AlertState, prefix: str, times: list[datetime], district: str = "D1") -> None:
    for n, at in enumerate(times):
        # Thefts are not an alert category: only the spike rule can fire on them.
        state.absorb_incident(incident(f"{prefix}{n}", at, category="theft", district=district))


def test_quiet_district_needs_the_minimum_count() -> None:
    state = new_state()
    _add(state, "x", [NOW - k * H for k in range(1, 5)])  # 4 in 24 h over an empty baseline
    assert _spikes(state) == []
    _add(state, "y", [NOW - 20 * H])
    [spike] = _spikes(state)
    assert spike.district == "D1"
    assert "5 incidents" in spike.description
    assert spike.point is None
    # Same data, a higher floor: no alert.
    assert _spikes(state, min_count=6) == []


def test_window_is_the_last_24_hours() -> None:
    state = new_state()
    _add(state, "x", [NOW - k * H for k in (1, 2, 3, 4, 25)])  # the fifth is 25 h old
    assert _spikes(state) == []
    # The window is open at its start: (now-25h, now] still leaves the 25-hour-old one out.
    assert _spikes(state, window_hours=25) == []
    assert len(_spikes(state, window_hours=26)) == 1
    # Two hours later the oldest ones have left that window again.
    assert _spikes(state, NOW + 2 * H, window_hours=26) == []


def _baseline(state: AlertState, per_day: int, district: str = "D1") -> None:
    """`per_day` incidents a day over the 28 days before the current window."""
    times = [NOW - D - k * D - (6 + j) * H for k in range(28) for j in range(per_day)]
    _add(state, f"base{district}", times, district)


def test_busy_district_needs_factor_times_its_baseline() -> None:
    state = new_state()
    _baseline(state, per_day=2)  # mean 2 a day: a spike needs 3 x 2 = 6
    _add(state, "now", [NOW - k * H for k in range(1, 6)])
    assert _spikes(state) == []
    _add(state, "more", [NOW - 12 * H])
    [spike] = _spikes(state)
    assert "6 incidents" in spike.description
    # A lower factor makes 5 enough only if 5 >= factor * 2.
    assert len(_spikes(state, factor=2.5)) == 1


def test_other_districts_baseline_does_not_matter() -> None:
    state = new_state()
    _baseline(state, per_day=3, district="D2")
    _add(state, "d1", [NOW - k * H for k in range(1, 6)], "D1")
    assert [s.district for s in _spikes(state)] == ["D1"]


def test_continuing_spike_keeps_its_guid() -> None:
    state = new_state()
    # The fifth incident lands at 23:00 UTC on March 4: the spike starts then.
    start = datetime(2024, 3, 4, 23, tzinfo=UTC)
    _add(state, "a", [start - k * H for k in range(5)])
    first = _spikes(state, start)
    assert [s.guid for s in first] == [item_guid("spike", "D1", "2024-03-04")]
    assert first[0].published == start
    # Hours later, past UTC midnight, with more incidents: still the same item.
    _add(state, "b", [start + 3 * H, start + 5 * H])
    for now in (start + H / 2, start + 2 * H, start + 6 * H + 17 * H / 60):
        assert [s.guid for s in _spikes(state, now)] == [first[0].guid]
    later = _spikes(state, start + 6 * H)[0]
    assert later.published == start
    assert later.updated == start + 5 * H


def test_new_spike_after_a_lull_is_a_new_item() -> None:
    state = new_state()
    first_day = datetime(2024, 3, 1, 12, tzinfo=UTC)
    _add(state, "a", [first_day + k * H for k in range(5)])
    [first] = _spikes(state, first_day + 5 * H)
    assert _spikes(state, first_day + 2 * D) == []
    # Lots of incidents make a new spike despite the earlier ones in the baseline.
    _add(state, "b", [NOW - k * H for k in range(1, 9)])
    [second] = _spikes(state)
    assert second.guid != first.guid


def test_late_incident_counts_once_it_arrives() -> None:
    state = new_state()
    _add(state, "on-time", [NOW - k * H for k in range(1, 5)])
    assert _spikes(state) == []
    # An incident that occurred 3 hours ago reaches the alerter only now.
    state.absorb_incident(incident("late", NOW - 3 * H, category="weapons"))
    [spike] = _spikes(state)
    # The condition first held an hour ago, when the fifth of them (by event time) occurred.
    assert spike.published == NOW - H
    assert spike in state.items(NOW, rules()).district("D1")
