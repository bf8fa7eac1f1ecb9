"""engagement_summary: held events by kind, survey figures suppressed below k and protected."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from agg_strategies import reader_options
from hypothesis import given, settings
from hypothesis import strategies as st

from openbeat.aggregate.engagement import CITYWIDE, engagement_summary, iso_week
from openbeat.aggregate.state import PUBLIC_ENGAGEMENTS, SURVEY_RESPONSES, AggregateState

MONDAY = date(2026, 3, 2)
DISTRICTS = ["D1", "D2", "D3"]


def event(public_id: str, revision: int = 1, **fields: object) -> dict:
    record = {
        "public_id": public_id,
        "revision": revision,
        "withdrawn": False,
        "kind": "community_meeting",
        "status": "held",
        "starts_at": datetime(2026, 3, 4, 18, tzinfo=UTC),
        "ends_at": None,
        "district": "D1",
        "attendee_count": 10,
        "partners": [],
        "topics": [],
    }
    return record | fields


def survey(public_id: str, day: date, district: str, trust: int, safety: int, rev: int = 1) -> dict:
    return {
        "public_id": public_id,
        "revision": rev,
        "responded_date": day,
        "district": district,
        "trust_score": trust,
        "safety_score": safety,
    }


def row_of(rows: list[dict], week: str, district: str) -> dict:
    return next(r for r in rows if r["iso_week"] == week and r["district"] == district)


def test_counts_held_events_by_kind_and_their_attendees() -> None:
    state = AggregateState()
    state.add(PUBLIC_ENGAGEMENTS, event("a", attendee_count=25))
    state.add(PUBLIC_ENGAGEMENTS, event("b", kind="patrol_walk", attendee_count=None))
    state.add(PUBLIC_ENGAGEMENTS, event("c", status="scheduled"))
    state.add(PUBLIC_ENGAGEMENTS, event("d", status="cancelled"))
    state.add(PUBLIC_ENGAGEMENTS, event("e", withdrawn=True))
    state.add(PUBLIC_ENGAGEMENTS, event("f", revision=1, kind="forum", attendee_count=40))
    state.add(PUBLIC_ENGAGEMENTS, event("f", revision=2, kind="forum", status="cancelled"))
    rows = engagement_summary(state, 5, districts=DISTRICTS)
    d1 = row_of(rows, "2026-W10", "D1")
    assert (d1["events_held"], d1["meetings"], d1["patrol_walks"]) == (2, 1, 1)
    assert (d1["forums"], d1["attendees"]) == (0, 25)
    assert row_of(rows, "2026-W10", "D2")["events_held"] == 0
    assert row_of(rows, "2026-W10", CITYWIDE)["events_held"] == 2


def test_weeks_are_local_iso_weeks() -> None:
    state = AggregateState()
    # Monday 03:00 UTC is still Sunday evening in Chicago: the previous ISO week there.
    state.add(PUBLIC_ENGAGEMENTS, event("a", starts_at=datetime(2026, 3, 9, 3, tzinfo=UTC)))
    assert engagement_summary(state, 5, citywide=False)[0]["iso_week"] == "2026-W11"
    chicago = engagement_summary(state, 5, tz=ZoneInfo("America/Chicago"), citywide=False)
    assert chicago[0]["iso_week"] == "2026-W10"
    assert iso_week(date(2027, 1, 1)) == "2026-W53"
    assert iso_week(date(2029, 12, 31)) == "2030-W01"


def test_survey_figures_below_k_are_hidden_and_zero_is_hidden_too() -> None:
    state = AggregateState()
    for i, (trust, safety) in enumerate([(5, 4), (4, 4), (4, 3), (3, 3), (5, 5), (1, 2)]):
        state.add(SURVEY_RESPONSES, survey(f"d1-{i}", MONDAY, "D1", trust, safety))
    for i in range(3):
        state.add(SURVEY_RESPONSES, survey(f"d2-{i}", MONDAY, "D2", 5, 5))
    rows = engagement_summary(state, 5, districts=DISTRICTS, citywide=False)
    d1, d2, d3 = (row_of(rows, "2026-W10", d) for d in DISTRICTS)
    assert (d1["survey_responses"], d1["mean_trust"], d1["mean_safety"]) == (6, 3.67, 3.5)
    assert not d1["suppressed"]
    for hidden in (d2, d3):
        assert hidden["suppressed"]
        assert (hidden["survey_responses"], hidden["mean_trust"], hidden["mean_safety"]) == (
            None,
            None,
            None,
        )


def test_a_lone_small_district_takes_a_partner_when_the_city_total_is_published() -> None:
    state = AggregateState()
    sizes = {"D1": 9, "D2": 2, "D3": 6}
    for district, n in sizes.items():
        for i in range(n):
            state.add(SURVEY_RESPONSES, survey(f"{district}-{i}", MONDAY, district, 4, 4))
    rows = engagement_summary(state, 5, districts=DISTRICTS)
    assert row_of(rows, "2026-W10", CITYWIDE)["survey_responses"] == 17
    assert row_of(rows, "2026-W10", "D2")["suppressed"]
    assert row_of(rows, "2026-W10", "D3")["suppressed"]  # else D2 = 17 - 9 - 6
    assert row_of(rows, "2026-W10", "D1")["survey_responses"] == 9


responses = st.lists(
    st.tuples(
        st.integers(0, 20),  # day offset: three weeks
        st.sampled_from(DISTRICTS),
        st.integers(1, 5),
        st.integers(1, 5),
        st.integers(1, 3),  # revision
    ),
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(responses, st.integers(2, 6), st.randoms(use_true_random=False))
def test_survey_figures_rest_on_k_responses_and_cannot_be_derived(items, k, rnd) -> None:
    records = [
        survey(f"s{i % 40}", MONDAY + timedelta(days=day), district, trust, safety, rev)
        for i, (day, district, trust, safety, rev) in enumerate(items)
    ]
    rnd.shuffle(records)
    state = AggregateState()
    for record in records:
        state.add(SURVEY_RESPONSES, record)
    # Oracle: the first-seen record of the highest revision per public id.
    latest: dict[str, dict] = {}
    for record in records:
        held = latest.get(record["public_id"])
        if held is None or record["revision"] > held["revision"]:
            latest[record["public_id"]] = record
    truth: dict = defaultdict(list)
    for record in latest.values():
        truth[(iso_week(record["responded_date"]), record["district"])].append(record)

    rows = engagement_summary(state, k, districts=DISTRICTS)
    by_week: dict = defaultdict(dict)
    for row in rows:
        by_week[row["iso_week"]][row["district"]] = row
        answers = (
            truth[(row["iso_week"], row["district"])]
            if row["district"] != CITYWIDE
            else [r for (week, _), rs in truth.items() if week == row["iso_week"] for r in rs]
        )
        if row["suppressed"]:
            assert row["survey_responses"] is row["mean_trust"] is row["mean_safety"] is None
            continue
        assert row["survey_responses"] == len(answers) >= k
        assert row["mean_trust"] == round(sum(r["trust_score"] for r in answers) / len(answers), 2)
        assert row["mean_safety"] == round(
            sum(r["safety_score"] for r in answers) / len(answers), 2
        )
    for week, districts in by_week.items():
        assert set(districts) == {*DISTRICTS, CITYWIDE}  # every district-week has a row
        if districts[CITYWIDE]["suppressed"]:
            continue
        hidden = [len(truth[(week, d)]) for d in DISTRICTS if districts[d]["suppressed"]]
        if hidden:
            assert len(hidden) >= 2
            assert sum(hidden) >= k  # the mean of the hidden districts together rests on k
            assert all(len(options) >= 2 for options in reader_options(hidden, k, 0))


def test_summary_is_the_same_after_a_checkpoint_and_in_any_order() -> None:
    rnd = random.Random(3)
    records = [
        (SURVEY_RESPONSES, survey(f"s{i}", MONDAY + timedelta(days=i % 9), f"D{i % 3 + 1}", 3, 4))
        for i in range(50)
    ] + [(PUBLIC_ENGAGEMENTS, event(f"e{i}", district=f"D{i % 2 + 1}")) for i in range(7)]
    state = AggregateState()
    for channel, record in records:
        state.add(channel, record)
    rnd.shuffle(records)
    shuffled = AggregateState()
    for channel, record in records:
        shuffled.add(channel, record)
    expected = engagement_summary(state, 5, districts=DISTRICTS)
    assert engagement_summary(shuffled, 5, districts=DISTRICTS) == expected
    restored = AggregateState.from_bytes(state.to_bytes())
    assert engagement_summary(restored, 5, districts=DISTRICTS) == expected


def test_rows_have_exactly_the_published_columns() -> None:
    from openbeat.releases.datasets import ENGAGEMENT_SUMMARY

    state = AggregateState()
    state.add(PUBLIC_ENGAGEMENTS, event("a"))
    state.add(SURVEY_RESPONSES, survey("s", MONDAY, "D2", 3, 3))
    columns = [column.name for column in ENGAGEMENT_SUMMARY.columns]
    for row in engagement_summary(state, 5, districts=DISTRICTS):
        assert list(row) == columns
