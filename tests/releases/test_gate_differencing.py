"""The release gate's differencing rules (issue 9.6), in `openbeat verify` and in the publisher.

Each tree below was published and passed the verifier before the rules were wired in: a sealed
figure that moved between two releases (5 -> 6 places one withheld incident), a cell whose count
minus its public rows is 1..k-1, a change log naming an id that was never public.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from release_inputs import CUTOFF, incident_row, pid

from openbeat.releases import ReleaseContext, build_release, verify_tree
from openbeat.store import LocalStore

LATER = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
DAY = date(2026, 11, 3)
NOON = datetime(2026, 11, 3, 18, 0, tzinfo=UTC)


def _cell(day: date, count: int | None, district: str = "D1") -> dict[str, Any]:
    return {
        "date": day,
        "district": district,
        "category": "theft",
        "count": count,
        "suppressed": count is None,
    }


def _thefts(n: int, start: int = 0) -> list[dict[str, Any]]:
    """`n` public thefts in D1 on DAY."""
    on_day = {"occurred_date": DAY, "reported_date": DAY, "occurred_hour": NOON}
    return [incident_row(start + i, district="D1", category="theft", **on_day) for i in range(n)]


def _gate(store: LocalStore, previous: str | None = None) -> list[str]:
    report = verify_tree(store, previous=previous)
    return [p.message for p in report.problems if "release gate" in p.message]


def _publish(
    store: LocalStore, dataset: str, rows: list[dict[str, Any]], cutoff: datetime, ctx: Any
) -> None:
    result = build_release(store, dataset, rows, cutoff, ctx)
    assert result.ok, result.errors


def test_a_sealed_figure_that_moves_fails(tmp_path: Path, context: ReleaseContext) -> None:
    store = LocalStore(tmp_path / "root")
    _publish(store, "incident-counts", [_cell(DAY, 5)], CUTOFF, context)
    # A later day added, the sealed one unchanged: fine.
    _publish(store, "incident-counts", [_cell(DAY, 5), _cell(date(2026, 11, 4), 7)], LATER, context)
    assert _gate(store) == []
    moved = LocalStore(tmp_path / "moved")
    _publish(moved, "incident-counts", [_cell(DAY, 5)], CUTOFF, context)
    _publish(moved, "incident-counts", [_cell(DAY, 6)], LATER, context)
    [line] = _gate(moved)
    assert "sealed figure(s) of release 2026-11-25T120000Z changed" in line
    assert "2026-11-03/D1/theft" in line


def test_count_minus_rows_in_1_to_k_minus_1_fails(tmp_path: Path, context: ReleaseContext) -> None:
    for withheld, fails in ((0, False), (5, False), (2, True)):
        store = LocalStore(tmp_path / f"w{withheld}")
        _publish(store, "incidents", _thefts(6), CUTOFF, context)
        _publish(store, "incident-counts", [_cell(DAY, 6 + withheld)], CUTOFF, context)
        lines = _gate(store)
        assert bool(lines) == fails, (withheld, lines)
        if fails:
            assert "count minus the public rows" in lines[0]
            assert "difference 2" in lines[0]


def test_count_minus_rows_checks_only_the_days_a_release_seals(
    tmp_path: Path, context: ReleaseContext
) -> None:
    """Rows that left after their day was sealed were public: the sealed count keeps them,
    and a reader holding both releases learns nothing, so the later release passes."""
    store = LocalStore(tmp_path / "root")
    _publish(store, "incidents", _thefts(6), CUTOFF, context)
    _publish(store, "incident-counts", [_cell(DAY, 6)], CUTOFF, context)
    _publish(store, "incidents", _thefts(6)[2:], LATER, context)  # two rows left
    _publish(store, "incident-counts", [_cell(DAY, 6)], LATER, context)
    assert _gate(store) == []


def test_a_removed_id_that_was_never_public_fails_with_previous(
    tmp_path: Path, context: ReleaseContext
) -> None:
    store = LocalStore(tmp_path / "root")
    _publish(store, "incidents", [incident_row(i) for i in range(1, 6)], CUTOFF, context)
    _publish(store, "incidents", [incident_row(i) for i in range(1, 5)], LATER, context)
    assert _gate(store, previous="2026-11-25T120000Z") == []
    key = "datasets/incidents/releases/2026-11-26T120000Z/changes.json"
    changes = json.loads(store.get(key))
    assert changes["ids"]["removed"] == [pid(5)]
    changes["ids"]["removed"].append(pid(999))  # never a row of any release
    store.put(key, json.dumps(changes).encode(), "application/json")
    [line] = _gate(store, previous="2026-11-25T120000Z")
    assert "were not rows of release 2026-11-25T120000Z" in line and pid(999) in line


def test_the_publishers_gate_compares_with_the_previous_release(
    tmp_path: Path, context: ReleaseContext
) -> None:
    """What the publisher does (`Releaser.check`): a moved sealed figure is never uploaded."""
    from openbeat.pipeline.releasing import Releaser
    from openbeat.privacy.policy import load_policy
    from openbeat.runtime.topics import TopicNames

    store = LocalStore(tmp_path / "root")
    releaser = Releaser(
        store=store,
        private=LocalStore(tmp_path / "private", True),
        names=TopicNames("unitgate"),
        jurisdiction=context.jurisdiction,
        policy=load_policy(),
        base_url="https://data.example.org",
        license_url=None,
    )
    gated = dataclasses.replace(context, gate=releaser.check)
    _publish(store, "incident-counts", [_cell(DAY, 5)], CUTOFF, gated)
    result = build_release(store, "incident-counts", [_cell(DAY, 6)], LATER, gated)
    assert not result.ok and "sealed figure" in result.errors[0]
    assert not store.list("datasets/incident-counts/releases/2026-11-26T120000Z/")
    latest = json.loads(store.get("datasets/incident-counts/latest.json"))
    assert latest["release_id"] == "2026-11-25T120000Z"
