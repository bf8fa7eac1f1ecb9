"""Preparing sample events in worker processes: same events, same order, same partitions."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from kafka.partitioner.default import DefaultPartitioner

from openbeat.contracts.codec import KIND_SCHEMAS, default_store
from openbeat.contracts.jurisdiction import Jurisdiction, load_jurisdiction
from openbeat.emit.prepare import MIN_PARALLEL_EVENTS, SamplePipeline
from openbeat.emit.producer import DeliveryTracker, SendTally, event_key, key_hash
from openbeat.emit.sample import CHUNK_EVENTS, generate_sample

NOW = datetime(2024, 3, 10, 7, 0, tzinfo=UTC)
# More than two chunks and above the threshold, so that workers really share the work.
N = max(MIN_PARALLEL_EVENTS, 2 * CHUNK_EVENTS) + 337


@pytest.fixture(scope="module")
def riverton() -> Jurisdiction:
    return load_jurisdiction("sample")


def _flat(pipeline: SamplePipeline) -> list[tuple[str, bytes, bytes, int]]:
    with pipeline as chunks:
        return [event for chunk in chunks for event in chunk]


def test_workers_make_exactly_what_one_process_makes(riverton: Jurisdiction) -> None:
    schemas = default_store()

    parallel = _flat(SamplePipeline(N, 11, riverton, NOW, schemas, workers=2))
    inline = _flat(SamplePipeline(N, 11, riverton, NOW, schemas, workers=0))
    expected = [
        (kind, event_key(kind, rec), schemas.encode(KIND_SCHEMAS[kind], rec))
        for kind, rec in generate_sample(N, 11, riverton, NOW)
    ]

    assert parallel == inline
    assert [event[:3] for event in parallel] == expected
    assert len({key for _, key, _, _ in parallel}) > N * 0.9  # distinct events, few revisions


def test_same_seed_twice_gives_the_same_bytes_and_another_seed_does_not(
    riverton: Jurisdiction,
) -> None:
    schemas = default_store()

    first = _flat(SamplePipeline(N, 5, riverton, NOW, schemas, workers=3))
    again = _flat(SamplePipeline(N, 5, riverton, NOW, schemas, workers=2))
    other = _flat(SamplePipeline(N, 6, riverton, NOW, schemas, workers=2))

    assert first == again
    assert {v for _, _, v, _ in first}.isdisjoint(v for _, _, v, _ in other)


@pytest.mark.parametrize("partitions", [1, 3, 7])
def test_key_hash_picks_the_default_partitioners_partition(partitions: int) -> None:
    cluster = SimpleNamespace(
        topics=lambda: {"t"},
        partitions_for_topic=lambda _t: set(range(partitions)),
        available_partitions_for_topic=lambda _t: set(range(partitions)),
    )
    partitioner = DefaultPartitioner()
    for i in range(300):
        key = f"RPD:RPD-1f-{i:07d}".encode()
        expected = partitioner.partition("t", key, key, b"", b"", cluster)
        assert sorted(range(partitions))[key_hash(key) % partitions] == expected


class _Future:
    def __init__(self, done: bool, exception: BaseException | None = None) -> None:
        self.is_done = done
        self.exception = exception


def test_tracker_counts_acks_and_failures_and_waits_for_pending() -> None:
    tally = SendTally()
    tracker = DeliveryTracker(tally)
    later: Any = _Future(False)
    for kind, future in [
        ("incident", _Future(True)),
        ("report", _Future(True, RuntimeError("broker said no"))),
        ("incident", later),
        ("incident", _Future(True)),
    ]:
        tracker.add(kind, future)

    tracker.settle()
    assert tally.acknowledged == {"incident": 1}
    assert tally.failed == {"report": 1} and "broker said no" in tally.errors[0]

    later.is_done = True
    tracker.settle()
    assert tally.acknowledged == {"incident": 3} and not tracker.pending


def test_tracker_counts_sends_never_acknowledged_as_failed_at_the_end() -> None:
    tally = SendTally()
    tracker = DeliveryTracker(tally)
    tracker.add("engagement", _Future(False))

    tracker.settle(final=True)

    assert tally.total_failed == 1 and "not acknowledged" in tally.errors[0]
