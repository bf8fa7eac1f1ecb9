"""The district pages' numbers from one pass over the cells (stats.by_district_cells) are the
numbers of the whole table filtered by district, for any table."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from openbeat.site import stats

END = date(2026, 11, 24)
_CELL = st.tuples(
    st.integers(0, 400).map(lambda n: END - timedelta(days=n)),
    st.sampled_from(["D1", "D2", "D3"]),
    st.sampled_from(["theft", "assault"]),
    st.integers(5, 50),
)


@given(st.lists(_CELL, max_size=60))
def test_per_district_cells_give_the_filtered_numbers(cells: list[stats.Cell]) -> None:
    cells.sort()
    grouped = stats.by_district_cells(cells)
    first = min((day for day, *_ in cells), default=None)
    for district in ("D1", "D2", "D3"):
        mine = grouped.get(district, [])
        assert stats.window(mine, END) == stats.window(cells, END, district)
        assert stats.weekly(mine, END, first=first) == stats.weekly(cells, END, district)
