"""The one consume-transform-produce loop every streaming service runs on.

A service is a `Processor`: it declares its input topics and turns one input message into zero or
more output messages. The loop owns polling, transactions, offsets, rebalances and shutdown:
each polled batch becomes one Kafka transaction holding the batch's outputs and its input offsets,
so after a crash (even SIGKILL) a batch is either entirely visible to read_committed readers with
its offsets committed, or not at all and consumed again. That is effectively-once from input
topics to output topics.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.errors import KafkaError, ProducerFencedError
from kafka.structs import OffsetAndMetadata

from openbeat.runtime.clients import make_consumer, make_producer
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


# An `Out` or a plain tuple of the same fields in the same order: what a batch processor may
# yield. Plain tuples cross a process boundary several times cheaper (no class to call when
# unpickled), and the loop reads every output by unpacking, so both work alike.
OutTuple = tuple[str, bytes | None, bytes | None, Sequence[tuple[str, bytes]], int | None]


class Processor(Protocol):
    """What a streaming service supplies to the loop."""

    input_topics: Sequence[str]

    def process(self, message: Any) -> Iterable[Out]:
        """Outputs for one input message (a kafka-python ConsumerRecord)."""

    def assigned(self, partitions: set[TopicPartition]) -> None:
        """Partitions now ours: restore their state before their first message."""

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
    # Some brokers need a moment after topic creation before a group is assigned; past this
    # long without any assignment an --until-idle run gives up instead of hanging forever.
    idle_assignment_timeout_s: float = 60.0
    producer_options: dict[str, Any] = field(default_factory=dict)


class _Listener(ConsumerRebalanceListener):
    def __init__(self, processor: Processor) -> None:
        self.processor = processor

    def on_partitions_revoked(self, revoked: Any) -> None:
        if revoked:
            logger.info("partitions revoked: %s", _fmt(revoked))
            self.processor.revoked(set(revoked))

    def on_partitions_assigned(self, assigned: Any) -> None:
        if assigned:
            logger.info("partitions assigned: %s", _fmt(assigned))
            self.processor.assigned(set(assigned))


def _fmt(partitions: Iterable[TopicPartition]) -> str:
    return ", ".join(sorted(f"{tp.topic}[{tp.partition}]" for tp in partitions))


class StopFlag:
    """Set by SIGTERM/SIGINT: the loop finishes its transaction and returns."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.set())


def run_loop(
    processor: Processor,
    config: LoopConfig,
    stop: StopFlag | None = None,
    on_batch: Callable[[LoopStats], None] | None = None,
) -> LoopStats:
    """Run until stopped, or until idle when `config.until_idle`."""
    stop = stop or StopFlag()
    stats = LoopStats()
    start = getattr(processor, "start", None)
    if start is not None:
        start()
    try:
        return _run(processor, config, stop, stats, on_batch)
    finally:
        close = getattr(processor, "close", None)
        if close is not None:
            close()


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
    try:
        producer.init_transactions()
        consumer.subscribe(list(processor.input_topics), listener=_Listener(processor))
        started = time.monotonic()
        while not stop.is_set():
            batch = consumer.poll(timeout_ms=config.poll_timeout_ms, max_records=config.max_batch)
            if not batch:
                if config.until_idle and idle(
                    consumer, processor.input_topics, started, config.idle_assignment_timeout_s
                ):
                    break
                continue
            _transaction(producer, consumer, processor, batch, stats)
            if on_batch:
                on_batch(stats)
    finally:
        consumer.close(autocommit=False)
        producer.close(timeout=10)
    return stats


def _transaction(
    producer: KafkaProducer,
    consumer: KafkaConsumer,
    processor: Processor,
    batch: dict[TopicPartition, list[Any]],
    stats: LoopStats,
) -> None:
    producer.begin_transaction()
    produced = 0
    per_topic: dict[str, int] = {}
    try:
        # In poll order, as before; a batch processor gets them all at once (see BatchProcessor).
        incoming = [message for records in batch.values() for message in records]
        process_many = getattr(processor, "process_many", None)
        outputs: Iterable[Iterable[OutTuple]] = (
            process_many(incoming) if process_many else map(processor.process, incoming)
        )
        for outs in outputs:
            for topic, value, key, headers, partition in outs:
                producer.send(
                    topic,
                    value=value,
                    key=key,
                    # kafka-python wants a list (or None for none).
                    headers=list(headers) if headers else None,
                    partition=partition,
                )
                produced += 1
                per_topic[topic] = per_topic.get(topic, 0) + 1
        offsets = {
            tp: OffsetAndMetadata(records[-1].offset + 1, "", -1) for tp, records in batch.items()
        }
        producer.send_offsets_to_transaction(offsets, consumer.group_metadata())
        producer.commit_transaction()
    except ProducerFencedError:
        logger.error("another instance took over transactional id; stopping")
        raise
    except KafkaError as exc:
        # A rebalance between poll and commit (or a broker hiccup) fences the offsets; abort,
        # forget the batch's state changes and consume it again from the committed offsets.
        logger.warning("transaction aborted (%s); the batch will be consumed again", exc)
        stats.aborted += 1
        try:
            producer.abort_transaction()
        finally:
            processor.abort()
            _rewind(consumer, batch.keys())
        return
    processor.commit()
    stats.transactions += 1
    stats.consumed += sum(len(m) for m in batch.values())
    stats.produced += produced
    for topic, count in per_topic.items():
        stats.by_topic[topic] = stats.by_topic.get(topic, 0) + count


def _rewind(consumer: KafkaConsumer, partitions: Iterable[TopicPartition]) -> None:
    assigned = consumer.assignment()
    for tp in partitions:
        if tp not in assigned:
            continue
        committed = consumer.committed(tp)
        if committed is None:
            consumer.seek_to_beginning(tp)
        else:
            consumer.seek(tp, committed)


def idle(
    consumer: KafkaConsumer, topics: Sequence[str], started: float, assignment_timeout_s: float
) -> bool:
    """Every input partition we own is consumed to its (committed) end."""
    assigned = consumer.assignment()
    if not assigned:
        if time.monotonic() - started > assignment_timeout_s:
            logger.warning("no partitions assigned after %.0fs; giving up", assignment_timeout_s)
            return True
        return False
    wanted: set[TopicPartition] = set()
    for topic in topics:
        for p in consumer.partitions_for_topic(topic) or ():
            wanted.add(TopicPartition(topic, p))
    ends = consumer.end_offsets(list(wanted))
    for tp in wanted:
        if tp in assigned:
            if consumer.position(tp) < ends.get(tp, 0):
                return False
        else:
            # Owned by another copy, or still held by a crashed one until its session ends:
            # done only when the group's committed offset has reached the end.
            committed = consumer.committed(tp)
            if (committed or 0) < ends.get(tp, 0):
                return False
    return True
