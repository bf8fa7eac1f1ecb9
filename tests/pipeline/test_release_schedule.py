"""The publisher's release schedule, without a broker."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from openbeat.contracts.codec import SchemaStore
from openbeat.pipeline.publisher import PublisherProcessor
from openbeat.runtime.topics import TopicNames
from openbeat.store import LocalStore


def test_publisher_cuts_one_release_per_interval_at_the_interval_start(tmp_path: Path) -> None:
    cut: list[datetime] = []
    now = [datetime(2026, 11, 25, 10, 30, tzinfo=UTC)]
    publisher = PublisherProcessor(
        names=TopicNames("unit"),
        schemas=SchemaStore.load(),
        private=LocalStore(tmp_path, private=True),
        release=lambda cutoff: cut.append(cutoff) or [],
        release_interval_s=3600,
        clock=lambda: now[0],
    )

    publisher.flush(final=False)
    publisher.flush(final=False)
    now[0] = datetime(2026, 11, 25, 11, 0, 1, tzinfo=UTC)
    # Releases are cut on their own thread; the final flush waits for them.
    publisher.flush(final=True)

    assert cut == [
        datetime(2026, 11, 25, 10, 0, tzinfo=UTC),
        datetime(2026, 11, 25, 11, 0, tzinfo=UTC),
    ]
