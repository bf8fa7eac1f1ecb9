"""The one consume-transform-produce loop every streaming service runs on.

A service is a `Processor`: it declares its input topics and turns one input message into zero or
more output messages. The loop owns polling, transactions, offsets, rebalances and shutdown:
each polled batch becomes one Kafka transaction holding the batch's outputs and its input offsets,
so after a crash (even SIGKILL) a batch is either entirely visible to read_committed readers with
its offsets committed, or not at all and consumed again. That is effectively-once from input
topics to output topics.

For a batch processor the loop also polls the next batch while the current transaction is open
and hands it to the processor, so its workers prepare it meanwhile; its outputs are read (state
checks, sends) only after the current transaction committed. If that transaction aborts, or the
group rebalanced inside that poll, the prefetched batch is dropped and every partition rewound
to its committed offset (the transaction is aborted too after a rebalance: another member may
already consume its partitions from the committed offsets).

Rebalances are settled on the polling thread after each poll (runtime.lifecycle): the listener
only records them and pauses new partitions until their state is restored.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol, cast

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.errors import CommitFailedError, KafkaError, ProducerFencedError
from kafka.structs import OffsetAndMetadata

from openbeat.runtime.broker_watch import BrokerWaits, BrokerWatch
from openbeat.runtime.clients import make_consumer, make_producer
from openbeat.runtime.errors import describe_fault
from openbeat.runtime.idle import DEFAULT_ASSIGNMENT_TIMEOUT_S, idle
from openbeat.runtime.lifecycle import Rebalances, rewind
from openbeat.runtime.lifecycle import StopFlag as StopFlag  # re-exported: services import it here
from openbeat.runtime.membership import MembershipGuard
from openbeat.runtime.metrics import service_view
from openbeat.runtime.partitioner import CachingPartitioner

logger = logging.getLogger(__name__)

Headers = list[tuple[str, bytes]]


class Out(NamedTuple):
    """One message to produce inside the current transaction.

    A NamedTuple rather than a frozen dataclass: just as immutable, and several times cheaper to
    build, which counts at one or more per input message on the hot path.
    """

    topic: str
    value: bytes | None
    key: bytes | None = None
    # A tuple by default so the shared default can never be mutated; any sequence of pairs.
    headers: Sequence[tuple[str, bytes]] = ()
    partition: int | None = None
    # The message's timestamp (ms since the epoch); None lets the producer stamp it now.
    timestamp_ms: int | None = None


# An `Out` or a plain tuple of the same fields in the same order: what a batch processor may
# yield. Plain tuples cross a process boundary several times cheaper (no class to call when
# unpickled), and the loop reads every output by unpacking, so both work alike.
OutTuple = tuple[
    str, bytes | None, bytes | None, Sequence[tuple[str, bytes]], int | None, int | None
]


class Processor(Protocol):
    """What a streaming service supplies to the loop."""

    input_topics: Sequence[str]

    def process(self, message: Any) -> Iterable[Out]:
        """Outputs for one input message (a kafka-python ConsumerRecord)."""

    def assigned(self, partitions: set[TopicPartition]) -> None:
        """Partitions now ours: restore their state before their first message (called on the
        polling thread with those partitions paused, runtime.lifecycle)."""

    def revoked(self, partitions: set[TopicPartition]) -> None:
        """Partitions taken away: drop their state."""

    def commit(self) -> None:
        """The transaction holding everything processed since the last call was committed."""

    def abort(self) -> None:
        """It was aborted: forget every state change made since the last commit."""


class BatchProcessor(Processor, Protocol):
    """A processor that may also supply these (the loop looks for each with getattr):

    - `start()`: called before the loop creates its Kafka clients (e.g. to fork workers while
      no client thread exists); `close()`: called when the loop ends, however it ends.
    - `process_many(messages) -> Iterator[Iterable[OutTuple]]`: the outputs of each message of a
      polled batch in turn, exactly what `process` would give one by one; lets the processor
      work on later messages (in other processes) while the loop sends earlier outputs. The
      iterator is consumed within the batch's transaction, or abandoned when it aborts.
    """

    def process_many(self, messages: Sequence[Any]) -> Iterator[Iterable[OutTuple]]:
        """Outputs for each message, in order."""


@dataclass
class LoopStats:
    consumed: int = 0
    produced: int = 0
    transactions: int = 0
    aborted: int = 0
    by_topic: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class LoopConfig:
    bootstrap: str
    group_id: str
    transactional_id: str
    client_id: str
    max_batch: int = 2000
    poll_timeout_ms: int = 200
    until_idle: bool = False
    # Past this long without any assignment an --until-idle run fails (runtime.idle).
    idle_assignment_timeout_s: float = DEFAULT_ASSIGNMENT_TIMEOUT_S
    producer_options: dict[str, Any] = field(default_factory=dict)
    # The name the service's metrics carry (runtime.metrics); the group id when empty.
    service: str = ""


# The loop's rebalance listener under the name the prefetch tests drive it by.
_Listener = Rebalances


def run_loop(
    processor: Processor,
    config: LoopConfig,
    stop: StopFlag | None = None,
    on_batch: Callable[[LoopStats], None] | None = None,
    stats: LoopStats | None = None,
) -> LoopStats:
    """Run until stopped, or until idle when `config.until_idle`; counts go into `stats` (a
    supervisor restarting the loop passes the same one each time)."""
    stop = stop or StopFlag()
    stats = stats if stats is not None else LoopStats()
    start = getattr(processor, "start", None)
    if start is not None:
        start()
    try:
        return _run(processor, config, stop, stats, on_batch)
    finally:
        close = getattr(processor, "close", None)
        if close is not None:
            close()


Batch = dict[TopicPartition, list[Any]]


@dataclass
class _Prefetched:
    """The next batch, polled during the open transaction; `outputs` is lazy (module docstring)."""

    batch: Batch
    outputs: Iterator[Iterable[OutTuple]]


def _run(
    processor: Processor,
    config: LoopConfig,
    stop: StopFlag,
    stats: LoopStats,
    on_batch: Callable[[LoopStats], None] | None,
) -> LoopStats:
    producer = make_producer(
        config.bootstrap,
        client_id=config.client_id,
        transactional_id=config.transactional_id,
        **{"partitioner": CachingPartitioner(), **config.producer_options},
    )
    consumer = make_consumer(
        config.bootstrap,
        client_id=config.client_id,
        group_id=config.group_id,
        instance_id=config.client_id,
    )
    view = service_view(config.service or config.group_id)
    view.attach(stats, processor)
    try:
        producer.init_transactions()
        listener = Rebalances(processor, consumer)
        consumer.subscribe(list(processor.input_topics), listener=listener)
        watch = BrokerWatch(consumer, processor.input_topics)
        guard = MembershipGuard(consumer, config.group_id)
        waits = BrokerWaits(config.service or config.group_id, config.bootstrap)
        started = time.monotonic()
        prefetched: _Prefetched | None = None
        while not stop.is_set():
            view.tick(consumer)
            if prefetched is None:
                batch = consumer.poll(
                    timeout_ms=config.poll_timeout_ms, max_records=config.max_batch
                )
                # Revoke and restore here, not in the listener (runtime.lifecycle); the
                # partitions just assigned are paused, so the batch holds none of theirs.
                listener.settle()
                guard.check()
                if not batch:
                    watch.check()  # a drained loop would not notice a dead broker
                    if config.until_idle and idle(
                        consumer,
                        processor.input_topics,
                        started,
                        config.idle_assignment_timeout_s,
                        config.group_id,
                    ):
                        break
                    continue
                watch.heard()
                outputs = _outputs(processor, batch)
            else:
                batch, outputs = prefetched.batch, prefetched.outputs
            prefetched = _transaction(
                producer, consumer, processor, batch, outputs, stats, listener, config, stop, waits
            )
            # A rebalance inside the prefetch poll aborted the transaction: settle it now.
            listener.settle()
            if on_batch:
                on_batch(stats)
        # A batch prefetched when the stop came is simply not processed: its offsets were not
        # committed, so whoever consumes next starts with it.
    finally:
        if "waits" in locals():
            waits.close()
        consumer.close(autocommit=False)
        producer.close(timeout=10)
    return stats


def _outputs(processor: Processor, batch: Batch) -> Iterator[Iterable[OutTuple]]:
    """The outputs of each message of `batch` in poll order (see BatchProcessor)."""
    incoming = [message for records in batch.values() for message in records]
    process_many = getattr(processor, "process_many", None)
    if process_many is not None:
        return cast(Iterator[Iterable[OutTuple]], process_many(incoming))
    return map(processor.process, incoming)


def _prefetch(
    consumer: KafkaConsumer,
    processor: Processor,
    listener: Rebalances,
    config: LoopConfig,
) -> tuple[_Prefetched | None, bool]:
    """Poll the next batch while the current transaction is open and hand it to the processor,
    whose workers queue it behind the current one (the lazy outputs are read only later).

    Returns that batch (None when there was none, or nothing to gain), and whether a rebalance
    ran inside the poll. The poll does not wait (timeout 0): waiting would delay the open
    transaction when the input runs dry; records not fetched yet come with the next poll.
    """
    if getattr(processor, "process_many", None) is None:
        # Nothing would work on the next batch in the meantime: keep the plain order.
        return None, False
    calls = listener.calls
    before = consumer.group_metadata()
    batch = consumer.poll(timeout_ms=0, max_records=config.max_batch)
    after = consumer.group_metadata()
    rebalanced = listener.calls != calls or (before.generation_id, before.member_id) != (
        after.generation_id,
        after.member_id,
    )
    if rebalanced or not batch:
        # After a rebalance the batch may hold records of partitions we no longer own, or
        # records of the open transaction again (positions restart from committed offsets).
        return None, rebalanced
    return _Prefetched(batch, _outputs(processor, batch)), False


def _transaction(
    producer: KafkaProducer,
    consumer: KafkaConsumer,
    processor: Processor,
    batch: Batch,
    outputs: Iterable[Iterable[OutTuple]],
    stats: LoopStats,
    listener: Rebalances,
    config: LoopConfig,
    stop: StopFlag,
    waits: BrokerWaits,
) -> _Prefetched | None:
    """One transaction for `batch`; returns the next batch when it was prefetched meanwhile."""
    producer.begin_transaction()
    produced = 0
    per_topic: dict[str, int] = {}
    prefetched: _Prefetched | None = None
    # The membership these offsets belong to, taken before any prefetch poll (which may rejoin
    # the group): the broker fences the offsets commit if that membership is stale.
    group = consumer.group_metadata()
    try:
        # The next batch is polled twice over if need be: before this batch's sends (the workers
        # queue it behind this one, and the poll runs while they prepare this one), else after.
        prefetched = _prefetch_or_abort(consumer, processor, listener, config, stop)
        for outs in outputs:
            for topic, value, key, headers, partition, timestamp_ms in outs:
                producer.send(
                    topic,
                    value=value,
                    key=key,
                    # kafka-python wants a list (or None for none).
                    headers=list(headers) if headers else None,
                    partition=partition,
                    timestamp_ms=timestamp_ms,
                )
                produced += 1
                per_topic[topic] = per_topic.get(topic, 0) + 1
        offsets = {
            tp: OffsetAndMetadata(records[-1].offset + 1, "", -1) for tp, records in batch.items()
        }
        if prefetched is None:
            prefetched = _prefetch_or_abort(consumer, processor, listener, config, stop)
        # Both wait, unbounded, for the broker: an outage mid-commit is said (BrokerWaits).
        with waits.waiting("committing a transaction"):
            producer.send_offsets_to_transaction(offsets, group)
            producer.commit_transaction()
    except ProducerFencedError:
        logger.error("another instance took over transactional id; stopping")
        raise
    except (KafkaError, _Rebalanced) as exc:
        # A rebalance between poll and commit (or a broker hiccup) fences the offsets; abort,
        # forget the batch's state changes and consume it again from the committed offsets.
        # A prefetched batch is dropped with its prepared outputs (never iterated), and every
        # partition rewound, since the prefetch poll moved positions past this batch.
        if isinstance(exc, KafkaError) and not isinstance(exc, CommitFailedError):
            # A broker fault (not a rebalance that fenced the offsets), named as the supervisor
            # names it: the operator greps one phrase.
            logger.warning(
                "service %s: %s; transaction aborted, the batch will be consumed again",
                config.service or config.group_id,
                describe_fault(exc, config.bootstrap),
            )
        else:
            logger.warning("transaction aborted (%s); the batch will be consumed again", exc)
        stats.aborted += 1
        _discard(outputs)
        if prefetched is not None:
            _discard(prefetched.outputs)
        try:
            with waits.waiting("aborting a transaction"):
                producer.abort_transaction()
        finally:
            processor.abort()
            rewind(consumer, consumer.assignment())
        return None
    processor.commit()
    stats.transactions += 1
    stats.consumed += sum(len(m) for m in batch.values())
    stats.produced += produced
    for topic, count in per_topic.items():
        stats.by_topic[topic] = stats.by_topic.get(topic, 0) + count
    return prefetched


def _prefetch_or_abort(
    consumer: KafkaConsumer,
    processor: Processor,
    listener: Rebalances,
    config: LoopConfig,
    stop: StopFlag,
) -> _Prefetched | None:
    """`_prefetch`, unless stopping; raises `_Rebalanced` (abort) if the poll rebalanced."""
    if stop.is_set():
        return None
    prefetched, rebalanced = _prefetch(consumer, processor, listener, config)
    if rebalanced:
        # Partitions of this batch may already be another member's, which consumes them from
        # the committed offsets: committing this batch too would process them twice.
        raise _Rebalanced("rebalance during the prefetch poll")
    return prefetched


class _Rebalanced(Exception):
    """The group rebalanced while a transaction was open (see `_prefetch`)."""


def _discard(outputs: Iterable[Any]) -> None:
    """Drop a batch's outputs unread: closing them cancels pending worker tasks."""
    close = getattr(outputs, "close", None)
    if close is not None:
        close()
