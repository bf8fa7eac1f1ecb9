"""List cells in CSV are exactly `json.dumps(value, ensure_ascii=False)` of the cell's list."""

from __future__ import annotations

import json

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from openbeat.releases.json_lists import json_lists

CELLS = st.lists(
    st.none() | st.lists(st.none() | st.text(alphabet=st.characters(codec="utf-8"), max_size=6)),
    max_size=30,
)


def _expected(cells: list[list[str | None] | None]) -> list[str | None]:
    return [None if v is None else json.dumps(v, ensure_ascii=False) for v in cells]


@settings(max_examples=300, deadline=None)
@given(CELLS, st.integers(0, 5))
def test_kernel_text_is_json_dumps_of_each_cell(cells: list, cut: int) -> None:
    array = pa.array(cells, pa.list_(pa.string()))
    assert json_lists(array).to_pylist() == _expected(cells)
    sliced = array.slice(min(cut, len(array)))  # offsets of a slice start above zero
    assert json_lists(sliced).to_pylist() == _expected(cells[min(cut, len(cells)) :])
    chunked = pa.chunked_array([array.slice(0, cut), array.slice(cut)])
    assert json_lists(chunked).to_pylist() == _expected(cells)


def test_escapes_quotes_backslashes_and_control_characters() -> None:
    cells = [['say "hi"', "a\\b", "line\nbreak\r\t", "\x08\x0c", "ünï", "\x01"], [], None]
    assert json_lists(pa.array(cells)).to_pylist() == _expected(cells)
