"""protect_group: no hidden cell of a group with a published total can be pinned down."""

from __future__ import annotations

from agg_strategies import reader_options
from hypothesis import given, settings
from hypothesis import strategies as st

from openbeat.aggregate.suppression import deducible_ranges, protect_group

groups = st.dictionaries(st.sampled_from("abcdefg"), st.integers(0, 12), min_size=1)


@settings(max_examples=400, deadline=None)
@given(groups, st.integers(2, 6), st.sampled_from([0, 1]))
def test_hidden_cells_stay_ambiguous_next_to_a_published_total(values, k, floor) -> None:
    values = {cell: max(v, floor) for cell, v in values.items()}
    hidden, total_published = protect_group(values, k=k, floor=floor)
    small = {cell for cell, v in values.items() if v < k}
    assert small <= hidden  # every small cell is hidden, whatever else happens
    if not total_published:
        assert hidden == small  # without a total there is nothing to protect against
        return
    assert sum(values.values()) >= k
    if not hidden:
        return
    hidden_values = [values[cell] for cell in sorted(hidden)]
    assert len(hidden_values) >= 2
    assert sum(hidden_values) >= k  # a mean over the hidden cells rests on k or more records
    for options in reader_options(hidden_values, k, floor):
        assert len(options) >= 2


def test_partners_are_the_smallest_published_cells() -> None:
    hidden, total_published = protect_group({"a": 3, "b": 40, "c": 7, "d": 12}, k=5, floor=1)
    assert total_published
    assert hidden == {"a", "c"}


def test_total_is_withheld_when_no_partner_can_protect() -> None:
    # Total 6: with "b" hidden too a reader knows b >= 5 and a >= 1, so a = 1 is pinned.
    hidden, total_published = protect_group({"a": 1, "b": 5}, k=5, floor=1)
    assert not total_published
    assert hidden == {"a"}


def test_ranges_pin_two_small_cells_at_the_top() -> None:
    ranges = deducible_ranges({"a": 4, "b": 4}, {"a", "b"}, k=5, floor=0)
    assert ranges == {"a": (4, 4), "b": (4, 4)}
