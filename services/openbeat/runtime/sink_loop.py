"""The loop of services whose output is the object store (publisher, aggregator, alerter).

Kafka transactions cannot cover an object store, so these services get effectively-once output
differently: every output is written under a deterministic key (a replay overwrites instead of
duplicating) or from idempotent state, and input offsets are committed only after
`processor.flush()` has made everything absorbed so far durable. A crash replays at most the
messages since the last commit, and replaying them changes nothing.

A processor whose checkpoint is large may also offer `flush_in_background()`: it snapshots what
it has absorbed and makes that durable on another thread, so the loop keeps polling (and feeds
keep flowing) while a big state is written. The offsets polled before the snapshot are committed
only once that background flush has finished; a failed one stops the loop like a failed flush.

A processor may hold cheap output back while batches keep coming (`owes_output`, the alerter's
feeds): the loop calls its `after_idle()` on the first poll that brings nothing.

A record the processor cannot absorb (it raises) is dead-lettered with the reason and the loop
goes on (runtime.sink_letters); those dead letters are flushed before any offset is committed.

Rebalances are settled after each poll (runtime.lifecycle): a partition taken away loses its
uncommitted offsets here and its buffered records in the processor (`revoked`), so its next
owner, or this copy when it gets it back, reads them again from the committed offset. Nothing
absorbed but not yet durable is ever committed on another ownership's behalf.

With a `lease` (runtime.lease: the aggregator and the alerter, single writers) the loop confirms
the lease right before every write (`after_batch`, flushes); a lost lease raises `LeaseLost`
and nothing more is written or committed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Protocol

from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from openbeat.runtime.broker_watch import BrokerWaits, BrokerWatch
from openbeat.runtime.clients import make_consumer
from openbeat.runtime.idle import DEFAULT_ASSIGNMENT_TIMEOUT_S, idle
from openbeat.runtime.lease import Lease
from openbeat.runtime.lifecycle import Rebalances, StopFlag
from openbeat.runtime.loop import LoopStats
from openbeat.runtime.membership import MembershipGuard
from openbeat.runtime.metrics import service_view
from openbeat.runtime.sink_letters import SinkLetters

logger = logging.getLogger(__name__)


class SinkProcessor(Protocol):
    input_topics: Sequence[str]

    def process(self, message: Any) -> None:
        """Absorb one message (idempotently: it may be seen again after a crash)."""

    def after_batch(self) -> None:
        """Cheap, frequent output (e.g. feeds) after each polled batch."""

    def flush(self, final: bool) -> None:
        """Make everything absorbed so far durable; offsets are committed right after."""

    def assigned(self, partitions: set[TopicPartition]) -> None: ...

    def revoked(self, partitions: set[TopicPartition]) -> None: ...


class BackgroundFlush(Protocol):
    def flush_in_background(self) -> Future[None]:
        """Snapshot everything absorbed so far; the future is done when that is durable."""


@dataclass(frozen=True)
class SinkConfig:
    bootstrap: str
    group_id: str
    client_id: str
    max_batch: int = 5000
    poll_timeout_ms: int = 200
    # How often absorbed input is made durable and its offsets committed. Longer means fewer
    # checkpoint writes; a crash replays at most this much input.
    commit_interval_s: float = 5.0
    until_idle: bool = False
    idle_assignment_timeout_s: float = DEFAULT_ASSIGNMENT_TIMEOUT_S
    # Where records the processor cannot absorb go (runtime.sink_letters); None: only counted.
    deadletter_topic: str | None = None
    # The name the service's metrics carry (runtime.metrics); the group id when empty.
    service: str = ""
    # Extra KafkaConsumer settings (a single writer's shorter session, runtime.lease).
    consumer_options: tuple[tuple[str, Any], ...] = ()


def run_sink_loop(
    processor: SinkProcessor,
    config: SinkConfig,
    stop: StopFlag | None = None,
    stats: LoopStats | None = None,
    lease: Lease | None = None,
) -> LoopStats:
    """Run until stopped, or until idle; counts go into `stats` (shared across restarts)."""
    stop = stop or StopFlag()
    stats = stats if stats is not None else LoopStats()
    consumer = make_consumer(
        config.bootstrap,
        client_id=config.client_id,
        group_id=config.group_id,
        instance_id=config.client_id,
        **dict(config.consumer_options),
    )
    letters = SinkLetters(config.bootstrap, config.client_id, config.deadletter_topic)
    waits = BrokerWaits(config.service or config.group_id, config.bootstrap)
    view = service_view(config.service or config.group_id)
    view.attach(stats, processor, letters)
    pending: dict[TopicPartition, int] = {}
    # Background flushes not yet committed, oldest first, with the offsets they cover.
    in_flight: list[tuple[Future[None], dict[TopicPartition, int]]] = []
    background: BackgroundFlush | None = (
        processor if hasattr(processor, "flush_in_background") else None  # type: ignore[assignment]
    )

    def commit_offsets(offsets: dict[TopicPartition, int]) -> None:
        # Only partitions still ours: a partition taken away by a rebalance is replayed by its
        # next owner from the last commit, which changes nothing (absorbing is idempotent).
        # Committing from the rebalance listener is not an option: kafka-python 3 runs it on the
        # client's IO thread, which cannot block on a commit.
        # Both wait, unbounded, for the broker: an outage mid-commit is said (BrokerWaits).
        with waits.waiting("committing offsets"):
            letters.flush()  # dead letters are durable before the offsets that pass them
            owned = consumer.assignment()
            kept = {tp: o for tp, o in offsets.items() if tp in owned}
            if kept:
                consumer.commit({tp: OffsetAndMetadata(o, "", -1) for tp, o in kept.items()})
                stats.transactions += 1

    failed: list[BaseException] = []

    def settle(wait: bool) -> None:
        """Commit the offsets of background flushes that are done (all of them when `wait`)."""
        while in_flight and (wait or in_flight[0][0].done()):
            future, offsets = in_flight.pop(0)
            error = future.exception()
            if error is not None:
                # Nothing after a failed flush may be committed (not even by the rebalance
                # listener while the consumer closes): stop, and replay from the last commit.
                failed.append(error)
                in_flight.clear()
                raise error
            commit_offsets(offsets)

    def confirm() -> None:
        if lease is not None:
            lease.confirm()

    def forget(revoked: set[TopicPartition]) -> None:
        """Revoked partitions' progress is not ours to commit any more (module docstring)."""
        for tp in revoked:
            pending.pop(tp, None)
        for _, offsets in in_flight:
            for tp in revoked:
                offsets.pop(tp, None)

    def commit(final: bool = False) -> None:
        if failed:
            return
        forget(listener.settle())  # a rebalance the IO thread finished since the last poll
        settle(wait=True)
        confirm()
        processor.flush(final)
        commit_offsets(dict(pending))
        pending.clear()

    def checkpoint() -> None:
        if background is None:
            commit()
            return
        forget(listener.settle())
        settle(wait=False)
        if in_flight:  # the last one is still writing: start the next at the next interval
            return
        confirm()
        in_flight.append((background.flush_in_background(), dict(pending)))
        pending.clear()

    listener = Rebalances(processor, consumer)
    watch = BrokerWatch(consumer, processor.input_topics)
    guard = MembershipGuard(consumer, config.group_id)
    try:
        consumer.subscribe(list(processor.input_topics), listener=listener)
        started = last_commit = time.monotonic()
        while not stop.is_set():
            batch = consumer.poll(timeout_ms=config.poll_timeout_ms, max_records=config.max_batch)
            forget(listener.settle())
            guard.check()
            for tp, messages in batch.items():
                for message in messages:
                    letters.process(processor, message)
                pending[tp] = messages[-1].offset + 1
                stats.consumed += len(messages)
            if batch:
                watch.heard()
                confirm()
                processor.after_batch()
            else:
                watch.check()  # a drained loop would not notice a dead broker (broker_watch)
                if getattr(processor, "owes_output", False):
                    # Output a processor held back while batches kept coming (the alerter's
                    # feeds, rendered at most every so often).
                    confirm()
                    processor.after_idle()  # type: ignore[attr-defined]
            settle(wait=False)
            view.tick(consumer)
            if time.monotonic() - last_commit >= config.commit_interval_s:
                checkpoint()
                last_commit = time.monotonic()
            if (
                not batch
                and config.until_idle
                and idle(
                    consumer,
                    processor.input_topics,
                    started,
                    config.idle_assignment_timeout_s,
                    config.group_id,
                )
            ):
                break
        commit(final=True)
    finally:
        waits.close()
        consumer.close(autocommit=False)
        letters.close()
    return stats
