"""changes.json: rows added, revised and removed since the previous release, by primary key."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from release_inputs import CUTOFF, incident_row, pid

from openbeat.releases import ReleaseContext, build_release
from openbeat.store import LocalStore

LATER = CUTOFF + timedelta(days=1)


def _changes(store: LocalStore, cutoff: datetime) -> dict[str, Any]:
    release_id = cutoff.astimezone(UTC).strftime("%Y-%m-%dT%H%M%SZ")
    return json.loads(store.get(f"datasets/incidents/releases/{release_id}/changes.json"))


def test_first_release_adds_everything_and_lists_no_ids(
    tmp_path: Path, context: ReleaseContext
) -> None:
    store = LocalStore(tmp_path)
    assert build_release(
        store, "incidents", [incident_row(i) for i in range(4)], CUTOFF, context
    ).ok
    changes = _changes(store, CUTOFF)
    assert changes["previous_release_id"] is None
    assert (changes["added"], changes["revised"], changes["removed"]) == (4, 0, 0)
    assert changes["ids"] is None


def test_added_revised_and_removed_ids_against_the_previous_release(
    tmp_path: Path, context: ReleaseContext
) -> None:
    store = LocalStore(tmp_path)
    before = [incident_row(i) for i in range(1, 5)]  # p00001..p00004
    assert build_release(store, "incidents", before, CUTOFF, context).ok
    after = [
        incident_row(1),  # unchanged
        incident_row(2, status="cleared_arrest"),  # revised
        incident_row(4, block=None, location_precision="district"),  # revised
        incident_row(7),  # added
    ]  # p00003 removed
    result = build_release(store, "incidents", after, LATER, context)
    assert result.ok, result.errors
    changes = _changes(store, LATER)
    assert changes["previous_release_id"] == "2026-11-25T120000Z"
    assert (changes["added"], changes["revised"], changes["removed"]) == (1, 2, 1)
    assert changes["ids"] == {
        "added": [pid(7)],
        "revised": [pid(2), pid(4)],
        "removed": [pid(3)],
    }
    # A removal says nothing about why: no field beyond the id lists.
    assert set(changes) == {
        "changes_version",
        "dataset",
        "release_id",
        "previous_release_id",
        "key",
        "added",
        "revised",
        "removed",
        "ids",
    }
    # Listed in the manifest and the Data Package, and copied beside the latest files.
    latest = json.loads(store.get("datasets/incidents/latest.json"))
    assert "changes.json" in [f["path"] for f in latest["files"]]
    assert store.get("datasets/incidents/latest/changes.json") == store.get(
        f"{result.prefix}changes.json"
    )
    # A rerun of either release gives the same bytes (the later one keeps its previous).
    assert build_release(store, "incidents", after, LATER, context).ok
    assert build_release(store, "incidents", before, CUTOFF, context).ok


def test_composite_keys_are_listed_as_lists(tmp_path: Path, context: ReleaseContext) -> None:
    store = LocalStore(tmp_path)
    day = datetime(2026, 11, 2).date()
    cell = {"date": day, "district": "D1", "category": "theft", "count": 7, "suppressed": False}
    assert build_release(store, "incident-counts", [cell], CUTOFF, context).ok
    later = [{**cell, "count": 8}, {**cell, "district": "D2"}]
    assert build_release(store, "incident-counts", later, LATER, context).ok
    changes = json.loads(
        store.get("datasets/incident-counts/releases/2026-11-26T120000Z/changes.json")
    )
    assert changes["key"] == ["date", "district", "category"]
    assert changes["ids"] == {
        "added": [["2026-11-02", "D2", "theft"]],
        "revised": [["2026-11-02", "D1", "theft"]],
        "removed": [],
    }
