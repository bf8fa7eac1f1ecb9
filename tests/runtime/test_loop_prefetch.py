"""The loop's prefetch of the next batch never weakens effectively-once.

While batch k's transaction is open the loop polls batch k+1 and hands it to a batch processor;
these tests drive one transaction against in-memory stand-ins for the Kafka clients and check
what a user relies on: k+1's outputs are not read (no revision check, no send) before k commits;
an aborted k drops k+1 and rewinds every assigned partition to its committed offset; a rebalance
inside the prefetch poll aborts k as well; a stopping loop does not prefetch.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import pytest
from kafka import TopicPartition
from kafka.errors import KafkaError
from kafka.structs import ConsumerGroupMetadata

from openbeat.runtime.broker_watch import BrokerWaits
from openbeat.runtime.loop import LoopConfig, LoopStats, OutTuple, StopFlag, _Listener, _transaction

A = TopicPartition("raw", 0)
B = TopicPartition("raw", 1)
C = TopicPartition("raw", 2)
COMMITTED = {A: 10, B: 20, C: 30}


class Record(NamedTuple):
    topic: str
    partition: int
    offset: int


def _batch(tp: TopicPartition, first: int, count: int) -> dict[TopicPartition, list[Any]]:
    return {tp: [Record(tp.topic, tp.partition, first + i) for i in range(count)]}


class Events:
    def __init__(self) -> None:
        self.log: list[str] = []


class FakeProducer:
    def __init__(self, events: Events, fail_commit: bool = False) -> None:
        self.events = events
        self.fail_commit = fail_commit

    def begin_transaction(self) -> None:
        self.events.log.append("begin")

    def send(self, topic: str, **_: Any) -> None:
        self.events.log.append(f"send {topic}")

    def send_offsets_to_transaction(self, offsets: dict[TopicPartition, Any], _: Any) -> None:
        self.events.log.append("offsets " + ",".join(str(o.offset) for o in offsets.values()))

    def commit_transaction(self) -> None:
        if self.fail_commit:
            raise KafkaError("commit failed")
        self.events.log.append("commit")

    def abort_transaction(self) -> None:
        self.events.log.append("abort")


class FakeConsumer:
    """Returns `next_batch` on poll; `rebalance` runs the listener callbacks inside that poll."""

    def __init__(self, events: Events, next_batch: dict[TopicPartition, list[Any]]) -> None:
        self.events = events
        self.next_batch = next_batch
        self.listener: _Listener | None = None
        self.rebalance = False
        self.generation = 1

    def poll(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Any]]:
        self.events.log.append("poll")
        if self.rebalance and self.listener is not None:
            self.listener.on_partitions_revoked(set(COMMITTED))
            self.generation += 1
            self.listener.on_partitions_assigned(set(COMMITTED))
        return self.next_batch

    def group_metadata(self) -> ConsumerGroupMetadata:
        return ConsumerGroupMetadata("g", self.generation, "member")

    def assignment(self) -> set[TopicPartition]:
        return set(COMMITTED)

    def committed(self, tp: TopicPartition) -> int:
        return COMMITTED[tp]

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.events.log.append(f"seek {tp.partition}@{offset}")


class Outputs(Iterator[Iterable[OutTuple]]):
    """A batch's lazy outputs, logging each revision check and the close."""

    def __init__(self, events: Events, messages: Sequence[Any]) -> None:
        self.events = events
        self.pending = list(messages)
        self.first = messages[0].offset

    def __next__(self) -> Iterable[OutTuple]:
        if not self.pending:
            raise StopIteration
        self.events.log.append(f"check {self.pending.pop(0).offset}")
        return [("out", b"v", None, (), None, None)]

    def close(self) -> None:
        self.events.log.append(f"closed {self.first}")


class Processor:
    """A batch processor logging when each batch's outputs are read and when it is closed."""

    input_topics: Sequence[str] = ("raw",)

    def __init__(self, events: Events) -> None:
        self.events = events

    def process(self, message: Any) -> Iterable[OutTuple]:
        raise AssertionError("a batch processor gets process_many")

    def process_many(self, messages: Sequence[Any]) -> Iterator[Iterable[OutTuple]]:
        self.events.log.append(f"prepare {messages[0].offset}")
        return Outputs(self.events, messages)

    def assigned(self, partitions: set[TopicPartition]) -> None:
        self.events.log.append("assigned")

    def revoked(self, partitions: set[TopicPartition]) -> None:
        self.events.log.append("revoked")

    def commit(self) -> None:
        self.events.log.append("state commit")

    def abort(self) -> None:
        self.events.log.append("state abort")


def _run_one(
    *, fail_commit: bool = False, rebalance: bool = False, stopping: bool = False
) -> tuple[Events, Any, LoopStats]:
    events = Events()
    processor = Processor(events)
    consumer = FakeConsumer(events, _batch(B, 20, 2))
    consumer.listener = _Listener(processor)
    consumer.rebalance = rebalance
    stop = StopFlag()
    if stopping:
        stop.set()
    batch = _batch(A, 10, 2)
    stats = LoopStats()
    prefetched = _transaction(
        FakeProducer(events, fail_commit),  # type: ignore[arg-type]
        consumer,  # type: ignore[arg-type]
        processor,
        batch,
        processor.process_many(batch[A]),
        stats,
        consumer.listener,
        LoopConfig("b", "g", "t", "c"),
        stop,
        BrokerWaits("test", "b"),
    )
    return events, prefetched, stats


def test_next_batch_is_prepared_during_the_transaction_but_read_only_after_commit() -> None:
    events, prefetched, stats = _run_one()
    log = events.log
    assert prefetched is not None and list(prefetched.batch) == [B]
    # Handed to the processor (its workers start on it) before this transaction commits...
    assert log.index("prepare 20") < log.index("commit")
    # ...but not one of its revision checks ran yet: they run in the next transaction.
    assert not any(e.startswith("check 2") for e in log)
    assert log.index("commit") < log.index("state commit")
    assert "offsets 12" in log
    assert stats.transactions == 1 and stats.consumed == 2
    # The next transaction reads it after this one's state commit.
    assert [len(list(outs)) for outs in prefetched.outputs] == [1, 1]


def test_failed_commit_drops_the_prefetched_batch_and_rewinds_every_partition() -> None:
    events, prefetched, stats = _run_one(fail_commit=True)
    log = events.log
    assert prefetched is None
    assert stats.aborted == 1 and stats.transactions == 0
    assert "abort" in log and "state abort" in log and "state commit" not in log
    # The prefetched batch was closed unread (pending worker tasks cancelled).
    assert "closed 20" in log and not any(e.startswith("check 2") for e in log)
    # Every assigned partition, not only this batch's: the prefetch moved B's position too.
    assert {e for e in log if e.startswith("seek")} == {"seek 0@10", "seek 1@20", "seek 2@30"}


def test_rebalance_inside_the_prefetch_poll_aborts_and_rewinds() -> None:
    events, prefetched, stats = _run_one(rebalance=True)
    log = events.log
    assert prefetched is None and stats.aborted == 1
    assert "commit" not in log and not any(e.startswith("offsets") for e in log)
    assert "abort" in log and "state abort" in log
    # Neither batch's outputs were sent after the rebalance, nor its revisions checked.
    assert not any(e.startswith(("send", "check")) for e in log[log.index("poll") :])
    assert {e for e in log if e.startswith("seek")} == {"seek 0@10", "seek 1@20", "seek 2@30"}


@pytest.mark.parametrize("fail_commit", [False, True])
def test_a_stopping_loop_does_not_prefetch(fail_commit: bool) -> None:
    events, prefetched, _ = _run_one(stopping=True, fail_commit=fail_commit)
    assert prefetched is None
    assert "poll" not in events.log
