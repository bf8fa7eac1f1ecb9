"""Grouping rows into records: wherever the rows are, with bounded memory, and combine rules."""

from __future__ import annotations

import os
import random
import tempfile
from datetime import UTC, datetime

import pytest

from openbeat.emit.grouping import bucket_count, combine, group_key, grouped_rows
from openbeat.emit.mapping import RowError


def rows_of(keys: list[str]) -> list[tuple[int, dict[str, str]]]:
    return [(i + 2, {"K": k, "v": str(i)}) for i, k in enumerate(keys)]


@pytest.mark.parametrize("buckets", [1, 7])
def test_scattered_rows_of_a_key_are_one_group_in_line_order(buckets: int) -> None:
    rng = random.Random(3)
    keys = [f"k{rng.randrange(50)}" for _ in range(600)]
    groups = list(grouped_rows(rows_of(keys), ("K",), buckets))
    assert sorted(line for g in groups for line, _ in g) == list(range(2, 602))  # none lost
    assert len(groups) == len(set(keys))
    for group in groups:
        assert len({row["K"] for _, row in group}) == 1
        assert [line for line, _ in group] == sorted(line for line, _ in group)


def test_spilled_and_in_memory_grouping_give_the_same_groups() -> None:
    keys = [f"k{i % 37}" for i in range(500)]
    one = sorted(tuple(line for line, _ in g) for g in grouped_rows(rows_of(keys), ("K",), 1))
    many = sorted(tuple(line for line, _ in g) for g in grouped_rows(rows_of(keys), ("K",), 9))
    assert one == many


def test_unreadable_rows_and_empty_keys_stay_groups_of_their_own() -> None:
    rows = [(2, {"K": "a"}), (3, {"__error__": "3 cells"}), (4, {"K": " "}), (5, {"K": "a"})]
    for buckets in (1, 3):
        groups = [[line for line, _ in g] for g in grouped_rows(rows, ("K",), buckets)]
        assert sorted(groups) == [[2, 5], [3], [4]]


def test_spill_files_are_removed_even_when_the_reader_stops_early() -> None:
    before = set(os.listdir(tempfile.gettempdir()))
    groups = grouped_rows(rows_of([f"k{i}" for i in range(100)]), ("K",), 4)
    next(groups)
    groups.close()
    leftovers = {
        n for n in set(os.listdir(tempfile.gettempdir())) - before if "openbeat-group" in n
    }
    assert leftovers == set()


def test_bucket_count_grows_with_the_file_so_a_bucket_stays_small() -> None:
    assert bucket_count(0) == 1 and bucket_count(1000) == 1
    assert bucket_count(200 << 20) == 25  # 200 MB: 25 buckets of 8 MB of text


def test_group_key_strips_and_refuses_empty_keys() -> None:
    assert group_key({"A": " 1 ", "B": "x"}, ("A", "B")) == ("1", "x")
    assert group_key({"A": "", "B": " "}, ("A", "B")) is None


def test_combine_rules() -> None:
    t1, t2 = datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 2, tzinfo=UTC)
    values = [
        {"a": None, "t": t2, "n": 3, "d": False, "j": True, "o": [{"code": "23F"}]},
        {"a": "x", "t": t1, "n": 5, "d": True, "j": True, "o": [{"code": "23F"}, {"code": "11A"}]},
        {"a": "y", "t": None, "n": None, "d": None, "j": False, "o": []},
    ]
    rules = {"t": "min", "n": "max", "d": "any", "j": "all"}
    out = combine(values, rules, frozenset({"o"}))  # type: ignore[arg-type]
    assert out == {
        "a": "x",  # first non-empty
        "t": t1,
        "n": 5,
        "d": True,
        "j": False,
        "o": [{"code": "23F"}, {"code": "11A"}],  # collected, repeats dropped
    }


def test_combine_refuses_rules_that_do_not_fit_the_values() -> None:
    with pytest.raises(RowError, match="true/false"):
        combine([{"a": "x"}, {"a": "y"}], {"a": "any"}, frozenset())
    with pytest.raises(RowError, match="compared"):
        combine([{"a": "x"}, {"a": 1}], {"a": "max"}, frozenset())


def test_grouping_with_spill_buckets_holds_a_bucket_not_the_file() -> None:
    """Bounded memory, measured as traced peak allocation (not time): 20 buckets hold about a
    twentieth of the rows at once, one bucket holds them all."""
    import tracemalloc

    def source():  # type: ignore[no-untyped-def]
        for i in range(30_000):
            yield i + 2, {"K": f"k{(i * 7919) % 8000}", "text": f"row {i} " * 8}

    def peak(buckets: int) -> int:
        tracemalloc.start()
        try:
            for _group in grouped_rows(source(), ("K",), buckets):
                pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    assert peak(20) * 4 < peak(1)
