"""The alerter's background checkpoint: the same bytes as a foreground one, restorable, and a
snapshot of the moment it was started (records absorbed while it is written are not in it)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from openbeat.contracts.codec import SchemaStore
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.feeds import feed_objects, load_alert_rules
from openbeat.feeds.alerts import AlertState
from openbeat.pipeline.alerter import CHECKPOINT_KEY, AlerterProcessor
from openbeat.runtime.topics import TopicNames
from openbeat.store import ObjectStore, open_store

NOW = datetime(2024, 3, 5, 18, 0, tzinfo=UTC)


def _incident(public_id: str, hours_ago: int, category: str = "robbery", **extra: Any) -> dict:
    at = NOW - timedelta(hours=hours_ago)
    record = {
        "public_id": public_id,
        "revision": 1,
        "withdrawn": False,
        "category": category,
        "offense_code": "120",
        "offense_count": 1,
        "offense_codes": [],
        "reported_date": at.date(),
        "occurred_date": at.date(),
        "occurred_hour": at,
        "block": "012XX W MAIN ST",
        "district": "D1",
        "latitude": 41.4812,
        "longitude": -88.2797,
        "location_precision": "block",
        "status": "open",
    }
    return {**record, **extra}


def _meeting(public_id: str, days_ahead: int) -> dict:
    starts = NOW + timedelta(days=days_ahead)
    return {
        "public_id": public_id,
        "revision": 1,
        "withdrawn": False,
        "kind": "community_meeting",
        "status": "scheduled",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=2),
        "district": "D2",
        # Non-ASCII and a character JSON escapes: the bytes must still match to_bytes exactly.
        "venue": 'Bibliothèque "Nord" \u2603',
        "block": "004XX N OAK AVE",
        "attendee_count": None,
        "partners": ["Northside Neighbors"],
        "topics": ["traffic safety"],
    }


def _alerter(private: ObjectStore, public: Path) -> AlerterProcessor:
    """An alerter whose checkpoint goes to `private` and feeds to the folder `public`."""
    return AlerterProcessor(
        names=TopicNames("t"),
        schemas=SchemaStore.load(),
        store=open_store(public),
        private=private,
        rules=load_alert_rules(),
        jurisdiction=load_jurisdiction("sample"),
        clock=lambda: NOW,
    )


def _fill(alerter: AlerterProcessor) -> None:
    for i in range(40):
        alerter.state.absorb_incident(_incident(f"i{i:03d}", i, "robbery" if i % 2 else "theft"))
    alerter.state.absorb_incident(_incident("sensitive", 0, occurred_hour=None))
    for i in range(5):
        alerter.state.absorb_engagement(_meeting(f"m{i}", i + 1))


def test_background_checkpoint_is_the_foreground_bytes_and_restores_the_same_feeds(
    tmp_path: Path,
) -> None:
    store = open_store(tmp_path / "private")
    alerter = _alerter(store, tmp_path / "public")
    _fill(alerter)
    alerter.flush_in_background().result(timeout=10)
    written = store.get(CHECKPOINT_KEY)
    assert written == alerter.state.to_bytes()
    restored = _alerter(store, tmp_path / "public")
    assert len(restored.state) == len(alerter.state)
    jurisdiction = load_jurisdiction("sample")
    rules = load_alert_rules()
    assert feed_objects(restored.state, NOW, rules, jurisdiction) == feed_objects(
        alerter.state, NOW, rules, jurisdiction
    )
    alerter.flush(final=True)


class _GatedStore:
    """A store whose checkpoint put waits until the test opens the gate."""

    def __init__(self, inner: ObjectStore) -> None:
        self.inner = inner
        self.gate = threading.Event()
        self.waiting = threading.Event()

    def put(self, key: str, data: bytes, *args: Any) -> None:
        if key == CHECKPOINT_KEY:
            self.waiting.set()
            assert self.gate.wait(10)
        self.inner.put(key, data, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def test_records_absorbed_while_the_checkpoint_is_written_wait_for_the_next(
    tmp_path: Path,
) -> None:
    store = _GatedStore(open_store(tmp_path / "private"))
    alerter = _alerter(store, tmp_path / "public")  # type: ignore[arg-type]
    _fill(alerter)
    before = alerter.state.to_bytes()
    future = alerter.flush_in_background()
    assert store.waiting.wait(10)
    # The loop goes on absorbing and publishing while the checkpoint is being written.
    alerter.state.absorb_incident(_incident("late", 0))
    assert not future.done()
    store.gate.set()
    future.result(timeout=10)
    assert store.get(CHECKPOINT_KEY) == before
    late = AlertState.from_bytes(store.get(CHECKPOINT_KEY))
    assert len(late) == len(alerter.state) - 1
    alerter.flush_in_background().result(timeout=10)
    assert store.get(CHECKPOINT_KEY) == alerter.state.to_bytes()
    alerter.flush(final=True)


def test_sensitive_dates_survive_the_round_trip(tmp_path: Path) -> None:
    store = open_store(tmp_path / "private")
    alerter = _alerter(store, tmp_path / "public")
    alerter.state.absorb_incident(
        _incident("s", 0, occurred_hour=None, occurred_date=date(2024, 3, 4))
    )
    alerter.flush_in_background().result(timeout=10)
    assert _alerter(store, tmp_path / "public").state.to_bytes() == alerter.state.to_bytes()
    alerter.flush(final=True)


def test_feeds_are_rendered_at_most_every_interval_and_owed_ones_once_idle(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Rendering walks the whole state, so the alerter renders after a batch at most every
    FEED_INTERVAL_S; what it held back is written by `after_idle` (the loop calls it on the
    first empty poll), so no alert waits for the next batch or flush."""
    import openbeat.pipeline.alerter as alerter_module

    clock = [1000.0]
    monkeypatch.setattr(alerter_module.time, "monotonic", lambda: clock[0])
    alerter = _alerter(open_store(tmp_path / "private"), tmp_path / "public")
    feed = tmp_path / "public" / "feeds" / "alerts.rss"

    alerter.state.absorb_incident(_incident("first", 1))
    alerter.after_batch()
    rendered = feed.read_bytes()
    alerter.state.absorb_incident(_incident("second", 2))
    clock[0] += alerter_module.FEED_INTERVAL_S / 2
    alerter.after_batch()
    assert feed.read_bytes() == rendered and alerter.owes_output
    alerter.after_idle()
    assert feed.read_bytes() != rendered and not alerter.owes_output
    # Once the interval has passed, a batch renders at once again.
    alerter.state.absorb_incident(_incident("third", 3))
    clock[0] += alerter_module.FEED_INTERVAL_S
    after_idle = feed.read_bytes()
    alerter.after_batch()
    assert feed.read_bytes() != after_idle and not alerter.owes_output
