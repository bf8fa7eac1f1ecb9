"""`openbeat verify` is a gate (issue 9.6): the release gate runs on every release of a tree.

Each case below passed the verifier before the gate was wired in (it only scanned text): a
release made with the public development key, an exact point, a person's name as the block, a
name after the street type, a row too young to publish.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from release_inputs import CUTOFF, TEST_KEY_ID, incident_row

from openbeat.privacy.pseudonym import DEV_KEY_ID, DEV_PSEUDONYM_KEY
from openbeat.releases import ReleaseContext, build_release, verify_tree
from openbeat.releases.gate import Gate
from openbeat.store import LocalStore

PREFIX = "datasets/incidents/releases/2026-11-25T120000Z/"


def _gate_lines(store: LocalStore, gate: Gate | None = None) -> list[str]:
    report = verify_tree(store, gate=gate)
    return [p.message for p in report.problems if p.key == PREFIX]


def _release(
    tmp_path: Path, context: ReleaseContext, rows: list[dict[str, Any]], **changes: Any
) -> LocalStore:
    store = LocalStore(tmp_path / "root")
    context = dataclasses.replace(context, **changes)
    result = build_release(store, "incidents", rows, CUTOFF, context)
    assert result.ok, result.errors
    return store


def test_the_manifest_records_the_key_id_not_the_key(
    tmp_path: Path, context: ReleaseContext
) -> None:
    store = _release(tmp_path, context, [incident_row(i) for i in range(20)])
    manifest = json.loads(store.get(PREFIX + "manifest.json"))
    assert manifest["pseudonym_key_id"] == TEST_KEY_ID
    assert _gate_lines(store) == []
    dev = json.dumps(manifest).encode()
    assert DEV_PSEUDONYM_KEY not in dev and DEV_PSEUDONYM_KEY.hex().encode() not in dev


def test_a_release_made_with_the_development_key_fails(
    tmp_path: Path, context: ReleaseContext
) -> None:
    rows = [incident_row(i) for i in range(20)]
    store = _release(tmp_path, context, rows, pseudonym_key_id=DEV_KEY_ID)
    [line] = _gate_lines(store)
    assert "development pseudonym key" in line
    # The publisher's gate under OPENBEAT_ALLOW_DEV_KEY=1 lets it through (loudly); the gate
    # `openbeat verify` runs never does.
    assert _gate_lines(store, Gate(allow_dev_key=True)) == []


def test_a_release_without_a_key_id_fails(tmp_path: Path, context: ReleaseContext) -> None:
    store = _release(tmp_path, context, [incident_row(1)], pseudonym_key_id=None)
    assert any("no pseudonym key id" in line for line in _gate_lines(store))


@pytest.mark.parametrize(
    ("change", "column"),
    [
        ({"latitude": 41.481234, "longitude": -88.281256}, "latitude"),  # an exact point
        ({"block": "JOHN SMITH RESIDENCE"}, "block"),
        ({"block": "012XX W MAIN ST ZEBULON QUIXOTIC"}, "block"),  # a name after the type
    ],
)
def test_a_typed_column_problem_fails_verify(
    tmp_path: Path, context: ReleaseContext, change: dict[str, Any], column: str
) -> None:
    rows = [incident_row(i) for i in range(1, 20)]
    rows[3] = rows[3] | change
    lines = _gate_lines(_release(tmp_path, context, rows))
    assert lines and all(line.startswith(f"release gate: column {column}:") for line in lines)


def test_a_row_too_young_for_the_cutoff_fails_verify(
    tmp_path: Path, context: ReleaseContext
) -> None:
    young = incident_row(5, reported_date=CUTOFF.date(), occurred_date=CUTOFF.date())
    lines = _gate_lines(_release(tmp_path, context, [incident_row(1), young]))
    assert len(lines) == 1 and "too young to publish" in lines[0], lines
