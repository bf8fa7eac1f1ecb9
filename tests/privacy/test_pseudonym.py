"""Public ids: stable for one key, unrelated across keys and record kinds."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openbeat.privacy.pseudonym import pseudonym

KEY = b"k" * 32
ids = st.text(min_size=1, max_size=40)


@given(ids, ids)
def test_stable_url_safe_and_key_dependent(agency: str, source: str) -> None:
    first = pseudonym(KEY, "incident", agency, source)
    assert first == pseudonym(KEY, "incident", agency, source)
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert first != pseudonym(b"x" * 32, "incident", agency, source)
    assert first != pseudonym(KEY, "report", agency, source)
    assert source not in first or len(source) < 4


def test_parts_cannot_be_shifted_into_a_collision() -> None:
    assert pseudonym(KEY, "incident", "A:B", "C") != pseudonym(KEY, "incident", "A", "B:C")
    assert pseudonym(KEY, "incident", "AB", "C") != pseudonym(KEY, "incident", "A", "BC")


def test_different_ids_differ() -> None:
    made = {pseudonym(KEY, "incident", "RPD", f"RPD-{n}") for n in range(5000)}
    assert len(made) == 5000


def test_unknown_namespace_and_short_key_are_refused() -> None:
    with pytest.raises(ValueError, match="namespace"):
        pseudonym(KEY, "person", "RPD", "1")
    with pytest.raises(ValueError, match="at least"):
        pseudonym(b"short", "incident", "RPD", "1")
