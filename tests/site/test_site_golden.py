"""The site's bytes for the fixture store, object by object, against a recorded digest list.

Why: the site builder is optimised for large stores (bench stage `site`), and an optimisation
must not change a single byte of what residents read. `golden_site.json` was recorded from the
builder before its optimisation (session 4): every page, calendar and the GeoJSON as that
builder wrote them; the charts (charts/*.svg) as written since they are plain SVG instead of
matplotlib's. Every object's SHA-256 must still match, and no object may appear or vanish.
A change that MEANS to change the site regenerates the file:

    OPENBEAT_SITE_GOLDEN=write .venv/bin/python -m pytest -q tests/site/test_site_golden.py

and says so in its commit message (the diff of the digests shows which objects changed).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from site_store import publish_store

from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.privacy.policy import load_policy
from openbeat.site import build_site, charts, read_inputs

GOLDEN = Path(__file__).with_name("golden_site.json")


def _digests(root: Path) -> dict[str, str]:
    store = publish_store(root)
    objects = build_site(read_inputs(store, load_jurisdiction("sample"), load_policy()))
    return {key: hashlib.sha256(data).hexdigest() for key, data in sorted(objects.items())}


def test_site_bytes_match_the_recorded_digests(tmp_path: Path) -> None:
    digests = _digests(tmp_path / "store")
    if os.environ.get("OPENBEAT_SITE_GOLDEN") == "write":
        GOLDEN.write_text(json.dumps(digests, indent=1) + "\n")
    expected = json.loads(GOLDEN.read_text())
    assert sorted(digests) == sorted(expected), "objects appeared or vanished"
    changed = [key for key in expected if digests[key] != expected[key]]
    assert changed == [], f"bytes changed: {changed}"


def test_two_builds_of_the_same_store_are_byte_identical(tmp_path: Path) -> None:
    store = publish_store(tmp_path / "store")
    j, policy = load_jurisdiction("sample"), load_policy()
    first = build_site(read_inputs(store, j, policy))
    charts.clear_cache()  # the second build draws every chart again
    second = build_site(read_inputs(store, j, policy))
    assert first == second
