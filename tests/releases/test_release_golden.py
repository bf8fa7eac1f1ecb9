"""Releases keep their bytes across speed-ups (issue 13, item 5): the incidents release cut from
the shipped Chicago export matches digests recorded on the code before the change, whether its
rows are sorted in memory or spilled in many sorted runs and merged.

See `release_golden.py` for the input and for how a deliberate change regenerates the digests.
"""

from __future__ import annotations

import json

import pytest
from release_golden import GOLDEN, compute

from openbeat.releases import sorting, tabular


@pytest.mark.parametrize("spill", [False, True], ids=["in-memory", "spilled-runs"])
def test_release_is_byte_identical_to_the_recorded_one(monkeypatch, spill: bool) -> None:
    if spill:
        # Rows converted 500 at a time, each slice a run of its own: 14 runs to merge.
        monkeypatch.setattr(tabular, "CONVERT_ROWS", 500)
        monkeypatch.setattr(sorting, "RUN_BYTES", 1)
    expected = json.loads(GOLDEN.read_text())
    assert compute() == expected, (
        "the release's bytes changed; if that is intended (a format or privacy change), "
        "regenerate the digests with `python tests/releases/release_golden.py --write` on the "
        "code that makes them and say so in the commit"
    )
