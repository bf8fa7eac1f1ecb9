"""The anonymizer publishes the same bytes as before its speed-ups (issue 13, item 5).

`tests/data/anonymizer_golden.json` holds digests of every public and restricted message the
anonymizer made for the synthetic sample and the shipped Chicago export, written by
`tests/pipeline/anonymizer_golden.py --write` on the code before the revision changelog moved to
batches and decoding, address generalization and encoding got cheaper. See that file for the
inputs and for how a deliberate change of the outputs regenerates it.
"""

from __future__ import annotations

import json

from anonymizer_golden import GOLDEN, compute


def test_outputs_are_byte_identical_to_the_recorded_ones() -> None:
    expected = json.loads(GOLDEN.read_text())
    assert compute() == expected, (
        "the anonymizer's outputs changed; if that is intended (a policy or privacy change), "
        "regenerate the digests with `python tests/pipeline/anonymizer_golden.py --write` on "
        "the code that makes them and say so in the commit"
    )
