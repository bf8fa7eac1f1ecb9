"""incident_counts: k floor, no differencing against public rows, complementary suppression."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import date, timedelta

from agg_strategies import (
    BASE_DAY,
    History,
    Version,
    histories,
    incident_record,
    reader_options,
    records,
    truth,
)
from hypothesis import example, given, settings
from hypothesis import strategies as st

from openbeat.aggregate.counts import ALL_CATEGORIES, CITYWIDE, WITHHELD, incident_counts
from openbeat.aggregate.state import PUBLIC_INCIDENTS, WITHHELD_INCIDENTS, AggregateState

ks = st.integers(2, 6)


def build(stories: list[History], rnd: random.Random | None = None) -> AggregateState:
    emitted = records(stories)
    if rnd is not None:
        rnd.shuffle(emitted)
    state = AggregateState()
    for channel, record in emitted:
        state.add(channel, record)
    return state


def is_cell(row: dict) -> bool:
    return row["category"] not in (ALL_CATEGORIES, WITHHELD)


@settings(max_examples=150, deadline=None)
@given(histories(), ks, st.booleans())
def test_no_published_count_rests_on_fewer_than_k(stories, k, margins) -> None:
    rows = incident_counts(build(stories), k, margins=margins)
    for row in rows:
        if row["suppressed"]:
            assert row["count"] is None
        else:
            assert row["count"] >= k


@settings(max_examples=150, deadline=None)
@given(histories(withheld_share=0.6), ks, st.booleans())
def test_count_minus_public_rows_is_never_1_to_k_minus_1(stories, k, margins) -> None:
    public, _ = truth(stories)
    public_by_group: Counter = Counter()
    for (day, district, _category), n in public.items():
        public_by_group[(day, district)] += n
    for row in incident_counts(build(stories), k, margins=margins):
        if row["suppressed"]:
            continue
        if row["category"] == ALL_CATEGORIES:
            public_rows = public_by_group[(row["date"], row["district"])]
        elif row["category"] == WITHHELD:
            public_rows = 0
        else:
            public_rows = public[(row["date"], row["district"], row["category"])]
        assert not 1 <= row["count"] - public_rows <= k - 1, row


@settings(max_examples=150, deadline=None)
@given(histories(), ks)
def test_every_incident_is_counted_once_at_the_grain_the_rule_allows(stories, k) -> None:
    public, withheld = truth(stories)
    rows = incident_counts(build(stories), k)
    # Suppressed rows hide values; rebuild them from the truth to check the bookkeeping.
    shown: dict = {}
    moved: Counter = Counter()
    for cell in public.keys() | withheld.keys():
        w = withheld[cell]
        small = 1 <= w <= k - 1
        moved[cell[0]] += w if small else 0
        value = public[cell] + (0 if small else w)
        if value:
            shown[cell] = value
    cell_rows = {(r["date"], r["district"], r["category"]): r for r in rows if is_cell(r)}
    assert cell_rows.keys() == shown.keys()
    for cell, row in cell_rows.items():
        assert row["count"] == (None if shown[cell] < k else shown[cell])
    withheld_rows = {r["date"]: r for r in rows if r["category"] == WITHHELD}
    assert withheld_rows.keys() == {day for day, n in moved.items() if n}
    for day, row in withheld_rows.items():
        assert row["district"] == CITYWIDE
        assert row["count"] == (None if moved[day] < k else moved[day])
    assert sum(shown.values()) + sum(moved.values()) == len(stories)


@settings(max_examples=60, deadline=None)
@given(histories(), ks, st.booleans(), st.randoms(use_true_random=False))
def test_rows_do_not_depend_on_arrival_order(stories, k, margins, rnd) -> None:
    in_order = incident_counts(build(stories), k, margins=margins)
    shuffled = incident_counts(build(stories, rnd), k, margins=margins)
    assert shuffled == in_order


@settings(max_examples=60, deadline=None)
@given(histories(days=5), ks, st.integers(0, 4), st.data())
def test_a_late_revision_changes_only_its_windows(stories, k, new_offset, data) -> None:
    if not stories:
        return
    state = build(stories)
    before = incident_counts(state, k)
    target = data.draw(st.sampled_from(stories))
    last = target.versions[-1]
    old_day = last.cell[0]
    new_day = BASE_DAY + timedelta(days=new_offset)
    channel = PUBLIC_INCIDENTS if last.public else WITHHELD_INCIDENTS
    late = incident_record(target.public_id, 99, (new_day, *last.cell[1:]), False)
    state.add(channel, late)
    after = incident_counts(state, k)
    untouched = lambda rows: [r for r in rows if r["date"] not in (old_day, new_day)]  # noqa: E731
    assert untouched(after) == untouched(before)
    revised = [*target.versions[:-1], Version(last.public, (new_day, *last.cell[1:]))]
    stories_after = [History(s.public_id, tuple(revised)) if s is target else s for s in stories]
    assert after == incident_counts(build(stories_after), k)


@settings(max_examples=40, deadline=None)
@given(histories(), ks)
def test_rows_survive_a_checkpoint(stories, k) -> None:
    state = build(stories)
    restored = AggregateState.from_bytes(state.to_bytes())
    assert incident_counts(restored, k, margins=True) == incident_counts(state, k, margins=True)


def stories_from_counts(groups: list[list[int]]) -> list[History]:
    """Public incidents with the given count per category, one district per list."""
    stories = []
    for g, counts in enumerate(groups):
        for c, n in enumerate(counts):
            cell = (BASE_DAY, f"D{g}", f"cat{c}")
            stories += [History(f"p{g}-{c}-{i}", (Version(True, cell),)) for i in range(n)]
    return stories


# Groups of a few categories with small counts, so that a published total next to a few small
# cells is the common case.
dense = st.lists(st.lists(st.integers(0, 9), min_size=1, max_size=6), max_size=4).map(
    stories_from_counts
)


@settings(max_examples=300, deadline=None)
@given(dense, ks)
@example(stories_from_counts([[1, 2, 4]]), 4)  # two small cells whose sum is below k
@example(stories_from_counts([[4, 4, 9]]), 5)  # two small cells both pinned at k-1
@example(stories_from_counts([[1, 5, 9]]), 5)  # a partner at exactly k pins the small one
def test_no_hidden_cell_is_recoverable_from_a_published_total(stories, k) -> None:
    public, _ = truth(stories)
    rows = incident_counts(build(stories), k, margins=True)
    groups: dict = defaultdict(list)
    for row in rows:
        groups[(row["date"], row["district"])].append(row)
    for group in groups.values():
        total = next(r for r in group if r["category"] == ALL_CATEGORIES)
        cells = [r for r in group if r["category"] != ALL_CATEGORIES]
        true_values = [public[(r["date"], r["district"], r["category"])] for r in cells]
        if not total["suppressed"]:
            assert total["count"] == sum(true_values)
        hidden = [v for r, v in zip(cells, true_values, strict=True) if r["suppressed"]]
        if total["suppressed"] or not hidden:
            continue
        hidden_sum = total["count"] - sum(r["count"] for r in cells if not r["suppressed"])
        assert hidden_sum == sum(hidden)
        assert len(hidden) >= 2
        assert hidden_sum >= k
        for options in reader_options(hidden, k, 1):
            assert len(options) >= 2, (hidden, options)


def test_one_small_cell_next_to_a_total_takes_a_partner_with_it() -> None:
    stories = []
    for category, n in (("burglary", 2), ("theft", 6), ("assault", 9)):
        for i in range(n):
            cell = (BASE_DAY, "D1", category)
            stories.append(History(f"{category}{i}", (Version(True, cell),)))
    rows = incident_counts(build(stories), 5, margins=True)
    by_category = {r["category"]: r for r in rows}
    assert by_category[ALL_CATEGORIES]["count"] == 17
    assert by_category["burglary"]["suppressed"]
    assert by_category["theft"]["suppressed"]  # the smallest other cell, so 2 is not 17 - 6 - 9
    assert by_category["assault"]["count"] == 9
    # Without a published total only the small cell is hidden.
    plain = {r["category"]: r["count"] for r in incident_counts(build(stories), 5)}
    assert plain == {"assault": 9, "burglary": None, "theft": 6}


def many_withheld(cells: int, per_cell: int) -> list[History]:
    stories = []
    for n in range(cells):
        cell = (date(2026, 1, 1) + timedelta(days=n // 20), f"D{n % 4}", f"cat{n % 5}")
        stories += [History(f"w{n}-{i}", (Version(False, cell),)) for i in range(per_cell)]
    return stories


def test_rows_have_exactly_the_published_columns() -> None:
    from openbeat.releases.datasets import INCIDENT_COUNTS

    stories = stories_from_counts([[1, 7]]) + many_withheld(cells=2, per_cell=2)
    columns = [column.name for column in INCIDENT_COUNTS.columns]
    rows = incident_counts(build(stories), 5, margins=True)
    assert {r["category"] for r in rows} >= {ALL_CATEGORIES, WITHHELD, "cat0"}
    for row in rows:
        assert list(row) == columns
