"""AggregateState: latest revision wins, withdrawn markers, order independence, checkpoints."""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime

import pytest
from agg_strategies import BASE_DAY, histories, incident_record, records, truth
from hypothesis import given, settings
from hypothesis import strategies as st

from openbeat.aggregate.state import (
    PUBLIC_ENGAGEMENTS,
    PUBLIC_INCIDENTS,
    SURVEY_RESPONSES,
    WITHHELD_INCIDENTS,
    AggregateState,
    AggregateStateError,
)

CELL_A = (BASE_DAY, "D1", "theft")
CELL_B = (date(2026, 3, 2), "D2", "assault")


def cells_of(state: AggregateState) -> tuple[dict, dict]:
    public, withheld = state.incident_cells()
    as_dates = lambda counts: {  # noqa: E731
        (date.fromordinal(day), d, c): n for (day, d, c), n in counts.items()
    }
    return as_dates(public), as_dates(withheld)


def test_highest_revision_wins_whatever_the_order() -> None:
    state = AggregateState()
    assert state.add(PUBLIC_INCIDENTS, incident_record("x", 2, CELL_B, False))
    assert not state.add(PUBLIC_INCIDENTS, incident_record("x", 1, CELL_A, False))
    assert cells_of(state) == ({CELL_B: 1}, {})


def test_equal_revision_keeps_the_first_seen() -> None:
    state = AggregateState()
    state.add(PUBLIC_INCIDENTS, incident_record("x", 1, CELL_A, False))
    assert not state.add(PUBLIC_INCIDENTS, incident_record("x", 1, CELL_B, False))
    assert cells_of(state) == ({CELL_A: 1}, {})


def test_incident_moved_to_restricted_counts_once_there() -> None:
    state = AggregateState()
    state.add(WITHHELD_INCIDENTS, incident_record("x", 2, CELL_B, False))
    state.add(PUBLIC_INCIDENTS, incident_record("x", 1, CELL_A, False))
    # Before the withdrawn marker arrives the public revision still counts (once).
    assert cells_of(state) == ({CELL_A: 1}, {})
    state.add(PUBLIC_INCIDENTS, incident_record("x", 2, CELL_B, True))
    assert cells_of(state) == ({}, {CELL_B: 1})


def test_withdrawn_on_both_channels_is_not_counted() -> None:
    state = AggregateState()
    state.add(PUBLIC_INCIDENTS, incident_record("x", 3, CELL_A, True))
    state.add(WITHHELD_INCIDENTS, incident_record("x", 2, CELL_A, False))
    state.add(WITHHELD_INCIDENTS, incident_record("x", 3, CELL_A, True))
    assert cells_of(state) == ({}, {})


@settings(max_examples=60, deadline=None)
@given(histories(), st.randoms(use_true_random=False))
def test_counts_each_incident_once_in_any_order(stories, rnd: random.Random) -> None:
    emitted = records(stories)
    rnd.shuffle(emitted)
    state = AggregateState()
    for channel, record in emitted:
        state.add(channel, record)
    expected_public, expected_withheld = truth(stories)
    public, withheld = cells_of(state)
    assert public == dict(+expected_public)
    assert withheld == dict(+expected_withheld)
    assert sum(public.values()) + sum(withheld.values()) == len(stories)


@settings(max_examples=40, deadline=None)
@given(histories(), st.integers(0, 200), st.randoms(use_true_random=False))
def test_checkpoint_mid_stream_restores_the_same_state(stories, cut, rnd) -> None:
    emitted = records(stories)
    rnd.shuffle(emitted)
    cut = min(cut, len(emitted))
    whole = AggregateState()
    for channel, record in emitted:
        whole.add(channel, record)
    first = AggregateState()
    for channel, record in emitted[:cut]:
        first.add(channel, record)
    resumed = AggregateState.from_bytes(first.to_bytes())
    for channel, record in emitted[cut:]:
        resumed.add(channel, record)
    assert cells_of(resumed) == cells_of(whole)
    # Restoring and saving again reproduces the checkpoint byte for byte.
    saved = whole.to_bytes()
    assert AggregateState.from_bytes(saved).to_bytes() == saved


def test_checkpoint_keeps_revisions_so_stale_records_stay_ignored() -> None:
    state = AggregateState()
    state.add(PUBLIC_INCIDENTS, incident_record("x", 5, CELL_A, False))
    state.add(PUBLIC_ENGAGEMENTS, engagement("e", 4, "cancelled"))
    restored = AggregateState.from_bytes(state.to_bytes())
    assert not restored.add(PUBLIC_INCIDENTS, incident_record("x", 4, CELL_B, False))
    assert not restored.add(PUBLIC_ENGAGEMENTS, engagement("e", 3, "held"))
    assert cells_of(restored) == ({CELL_A: 1}, {})
    assert list(restored.held_events()) == []


def engagement(public_id: str, revision: int, status: str) -> dict:
    return {
        "public_id": public_id,
        "revision": revision,
        "withdrawn": False,
        "kind": "forum",
        "status": status,
        "starts_at": datetime(2026, 3, 3, 18, tzinfo=UTC),
        "district": "D1",
        "attendee_count": 12,
    }


def test_bad_records_and_checkpoints_are_named_errors() -> None:
    state = AggregateState()
    with pytest.raises(AggregateStateError, match="occurred_date"):
        state.add(PUBLIC_INCIDENTS, {"public_id": "x", "revision": 1, "district": "D1"})
    with pytest.raises(AggregateStateError, match="unknown channel"):
        state.add("openbeat.public.reports", incident_record("x", 1, CELL_A, False))
    naive = engagement("e", 1, "held") | {"starts_at": datetime(2026, 3, 3, 18)}
    with pytest.raises(AggregateStateError, match="time zone"):
        state.add(PUBLIC_ENGAGEMENTS, naive)
    with pytest.raises(AggregateStateError, match="format"):
        AggregateState.from_bytes(b'{"format": 99, "channels": {}}')
    with pytest.raises(AggregateStateError, match="JSON"):
        AggregateState.from_bytes(b"\x00not json")
    assert len(state) == 0


def test_aliases_map_other_topic_names() -> None:
    state = AggregateState(aliases={"test-survey-123": SURVEY_RESPONSES})
    state.add(
        "test-survey-123",
        {
            "public_id": "s",
            "revision": 1,
            "responded_date": BASE_DAY,
            "district": "D1",
            "trust_score": 4,
            "safety_score": 2,
        },
    )
    assert list(state.survey_scores()) == [(BASE_DAY.toordinal(), "D1", 4, 2)]


def test_absorbs_a_million_records_in_seconds() -> None:
    # 200k records here to keep the suite fast; the bound is ~10x what the code needs, so it
    # only fails on an accidental quadratic step or per-record I/O, not on a slow CI machine.
    rnd = random.Random(7)
    days = [date(2026, 1, 1).toordinal() + i for i in range(60)]
    batch = [
        (
            WITHHELD_INCIDENTS if n % 20 == 0 else PUBLIC_INCIDENTS,
            incident_record(
                f"{n % 150_000:064x}",
                rnd.randint(1, 4),
                (date.fromordinal(rnd.choice(days)), f"D{n % 6}", f"cat{n % 17}"),
                n % 97 == 0,
            ),
        )
        for n in range(200_000)
    ]
    state = AggregateState()
    began = time.perf_counter()
    for channel, record in batch:
        state.add(channel, record)
    elapsed = time.perf_counter() - began
    assert elapsed < 8.0, f"{len(batch) / elapsed:,.0f} records/s"
