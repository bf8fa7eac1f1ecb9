"""The sealed ledger in the store: round trip, private location, and a crash between writes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from openbeat.aggregate.sealing import Sealed
from openbeat.pipeline.sealed import SEALED_PREFIX, load_sealed, save_sealed
from openbeat.store import LocalStore


def _row(day: date, value: int) -> dict[str, object]:
    return {"date": day, "district": "D1", "category": "theft", "value": value, "suppressed": False}


def test_round_trip_keeps_dates_and_private_values(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    ledger = Sealed("day", date(2026, 2, 1), {"2026-01-31": [_row(date(2026, 1, 31), 7)]})
    ledger.periods["2026-02-01"] = []
    save_sealed(store, "incident-counts", ledger, ["2026-01-31", "2026-02-01"])
    again = load_sealed(store, "incident-counts", "day")
    assert again.through == date(2026, 2, 1) and again.periods == ledger.periods
    assert all(key.startswith(f"{SEALED_PREFIX}/") for key in store.list(SEALED_PREFIX))
    assert not store.list("datasets/")  # nothing of it under the published tree


def test_periods_written_without_their_index_are_not_sealed(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    ledger = Sealed("day", date(2026, 1, 30), {"2026-01-30": [_row(date(2026, 1, 30), 5)]})
    save_sealed(store, "incident-counts", ledger, ["2026-01-30"])
    index = store.get(f"{SEALED_PREFIX}/incident-counts/index.json")
    ledger.periods["2026-01-31"] = [_row(date(2026, 1, 31), 9)]
    ledger.through = date(2026, 1, 31)
    save_sealed(store, "incident-counts", ledger, ["2026-01-31"])
    # The crash: shard written, index not moved.
    store.put(f"{SEALED_PREFIX}/incident-counts/index.json", index, "application/json")
    again = load_sealed(store, "incident-counts", "day")
    assert list(again.periods) == ["2026-01-30"] and again.through == date(2026, 1, 30)
