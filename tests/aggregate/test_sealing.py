"""Sealed periods: published once closed plus settle_days, never changed by later input.

The property test plays an adversary holding two releases: the first is cut, then arbitrary
new input arrives (withheld incidents for old days, late public rows, new days), the second is
cut. Between the two no sealed figure may change, and in each release count minus covered
public rows must be 0 or at least k (aggregate.differencing). Without sealing (figures
recomputed from the state at each release, `incident_counts`), the same scenario fails: see
`test_without_sealing_a_new_withheld_incident_shows_up`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openbeat.aggregate.counts import incident_counts, sealed_incident_rows
from openbeat.aggregate.differencing import sealed_changes, withheld_differences
from openbeat.aggregate.periods import is_late, last_sealed_day, period_of, periods_between
from openbeat.aggregate.sealing import (
    Sealed,
    SealingError,
    coarser_counts,
    published_counts,
    seal,
)
from openbeat.aggregate.state import PUBLIC_INCIDENTS, WITHHELD_INCIDENTS, AggregateState

K = 5
SETTLE = 2
BASE = date(2026, 3, 2)  # a Monday
KEY = ("date", "district", "category")


def test_period_keys_and_bounds() -> None:
    assert period_of("day", date(2026, 11, 30)).key == "2026-11-30"
    week = period_of("week", date(2026, 1, 1))  # ISO week 1 of 2026 starts on Dec 29, 2025
    assert (week.key, week.first, week.last) == ("2026-W01", date(2025, 12, 29), date(2026, 1, 4))
    month = period_of("month", date(2024, 2, 10))
    assert (month.key, month.first, month.last) == ("2024-02", date(2024, 2, 1), date(2024, 2, 29))
    assert [p.key for p in periods_between("month", date(2026, 1, 31), date(2026, 3, 1))] == [
        "2026-01",
        "2026-02",
        "2026-03",
    ]


def test_a_day_is_sealed_after_settle_days_complete_days() -> None:
    # Publishing up to Mar 10 (not over): Mar 9 is the last complete day; settle 2 -> Mar 7.
    assert last_sealed_day(date(2026, 3, 10), 2) == date(2026, 3, 7)
    assert not is_late(date(2026, 3, 7), date(2026, 3, 9), 2)
    assert is_late(date(2026, 3, 7), date(2026, 3, 10), 2)


class World:
    """Public rows (as the incidents dataset shows them) and withheld incidents."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.withheld: list[dict[str, Any]] = []

    def public(self, occurred: date, reported: date, district: str, category: str) -> None:
        self.rows.append(
            {
                "public_id": f"p{len(self.rows)}",
                "revision": 1,
                "occurred_date": occurred,
                "reported_date": reported,
                "district": district,
                "category": category,
            }
        )

    def withhold(self, occurred: date, district: str, category: str) -> None:
        self.withheld.append(
            {
                "public_id": f"w{len(self.withheld)}",
                "revision": 1,
                "occurred_date": occurred,
                "district": district,
                "category": category,
            }
        )

    def published_rows(self, until_day: date) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["reported_date"] <= until_day]

    def state(self, until_day: date) -> AggregateState:
        """What the releaser builds: on-time published rows, every withheld incident."""
        state = AggregateState()
        for row in self.published_rows(until_day):
            late = is_late(row["occurred_date"], row["reported_date"], SETTLE)
            state.add(PUBLIC_INCIDENTS, {**row, "withdrawn": late})
        state.add_many(WITHHELD_INCIDENTS, ({**w, "withdrawn": False} for w in self.withheld))
        return state


def release(world: World, ledger: Sealed, until_day: date) -> list[dict[str, Any]]:
    state = world.state(until_day)
    seal(
        ledger,
        until_day=until_day,
        settle_days=SETTLE,
        compute=lambda s, e: sealed_incident_rows(state, K, start=s, end=e),
        period_key=lambda row: row["date"].isoformat(),
    )
    return published_counts(ledger.rows())


events = st.lists(
    st.tuples(
        st.booleans(),  # public?
        st.integers(0, 9),  # occurred: days after BASE
        st.integers(0, 6),  # reported: days after occurred
        st.sampled_from(["D1", "D2"]),
        st.sampled_from(["theft", "assault"]),
    ),
    max_size=60,
)


def _apply(
    world: World, batch: list[tuple[bool, int, int, str, str]], arrives: date | None = None
) -> None:
    """Events of a batch; public ones arriving on day `arrives` cannot have been reported
    before it (the pipeline does not lag behind the publication delay)."""
    for public, occurred, delay, district, category in batch:
        day = BASE + timedelta(days=occurred)
        if public:
            reported = day + timedelta(days=delay)
            if arrives is not None:
                reported = max(reported, arrives)
            world.public(day, reported, district, category)
        else:
            world.withhold(day, district, category)


@settings(max_examples=150, deadline=None)
@given(first=events, later=events, gap=st.integers(1, 6))
def test_two_releases_reveal_nothing_by_subtraction(
    first: list[tuple[bool, int, int, str, str]],
    later: list[tuple[bool, int, int, str, str]],
    gap: int,
) -> None:
    world, ledger = World(), Sealed("day")
    until_1 = BASE + timedelta(days=8)
    _apply(world, first)
    release_1 = release(world, ledger, until_1)
    rows_1 = world.published_rows(until_1)
    # Anything may arrive for any day, sealed or not; withheld incidents with any date.
    _apply(world, later, arrives=until_1)
    until_2 = until_1 + timedelta(days=gap)
    release_2 = release(world, ledger, until_2)
    rows_2 = world.published_rows(until_2)

    assert sealed_changes(release_1, release_2, KEY) == []
    assert withheld_differences(release_1, rows_1, k=K, settle_days=SETTLE) == []
    assert withheld_differences(release_2, rows_2, k=K, settle_days=SETTLE) == []
    # Every sealed day has its citywide withheld row, hidden unless at least k.
    through = last_sealed_day(until_2, SETTLE)
    withheld_rows = [r for r in release_2 if r["district"] == "(citywide)"]
    days = sorted(r["date"] for r in withheld_rows)
    assert days == sorted(set(days))
    if days:
        assert days[-1] == through
        assert len(days) == (through - days[0]).days + 1
    assert all(r["count"] is None or r["count"] >= K for r in withheld_rows)


def test_without_sealing_a_new_withheld_incident_shows_up() -> None:
    """The attack against today's recomputed counts: a cell goes 5 -> 6 minus its rows."""
    world = World()
    day = BASE
    for _ in range(5):
        world.withhold(day, "D1", "theft")
    world.public(day, day, "D1", "theft")
    before = incident_counts(world.state(BASE + timedelta(days=9)), K, end=day)
    world.withhold(day, "D1", "theft")  # one more confidential incident, days later
    after = incident_counts(world.state(BASE + timedelta(days=10)), K, end=day)
    assert sealed_changes(before, after, KEY) != []  # the old way leaks the new incident

    ledger = Sealed("day")
    world = World()
    for _ in range(5):
        world.withhold(day, "D1", "theft")
    world.public(day, day, "D1", "theft")
    first = release(world, ledger, BASE + timedelta(days=9))
    world.withhold(day, "D1", "theft")
    second = release(world, ledger, BASE + timedelta(days=10))
    assert sealed_changes(first, second, KEY) == []


def test_a_sealed_period_is_never_recomputed() -> None:
    ledger = Sealed("day", through=BASE, periods={BASE.isoformat(): []})

    def compute(start: date | None, end: date) -> list[dict[str, Any]]:
        return [{"date": BASE}]

    ledger.through = None  # as if the index were lost while the period stays
    with pytest.raises(SealingError, match="sealed already"):
        seal(
            ledger,
            until_day=BASE + timedelta(days=5),
            settle_days=0,
            compute=compute,
            period_key=lambda row: row["date"].isoformat(),
        )


def test_weekly_and_monthly_are_sums_of_sealed_days_and_wait_for_the_last_day() -> None:
    world, ledger = World(), Sealed("day")
    for offset in range(7):  # one theft a day in D1, Monday to Sunday
        day = BASE + timedelta(days=offset)
        world.public(day, day, "D1", "theft")
    for _ in range(5):
        world.withhold(BASE, "D2", "theft")  # shown in its cell: 5 >= k
    world.withhold(BASE, "D1", "assault")  # 1 < k: moved to the citywide row, not summed
    release(world, ledger, BASE + timedelta(days=6 + SETTLE))  # Sunday not sealed yet
    assert coarser_counts(ledger, "week", K) == []
    release(world, ledger, BASE + timedelta(days=7 + SETTLE))
    weekly = {(r["district"], r["category"]): r["count"] for r in coarser_counts(ledger, "week", K)}
    assert weekly == {("D1", "theft"): 7, ("D2", "theft"): 5, ("(citywide)", "theft"): 12}
    assert coarser_counts(ledger, "month", K) == []  # March is not over
