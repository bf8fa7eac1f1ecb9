"""The emitter's Kafka shell: encode records and send them to the raw topics, losing nothing.

Every send is tracked: the summary counts what the broker acknowledged, and any failed send makes
the command exit non-zero (a silently dropped event is the one failure an agency cannot see).
"""

from __future__ import annotations

import logging
import struct
from collections import Counter, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaProducer

from openbeat.contracts.codec import KIND_SCHEMAS, SchemaStore
from openbeat.runtime.topics import TopicNames

logger = logging.getLogger(__name__)

# Futures kept before one-by-one sends tally the finished ones: bounds memory on a long import
# (a future is ~0.5 KB with its batch) while tallying in runs, not on every send.
SETTLE_AT = 2000

ID_FIELDS = {"incident": "incident_id", "report": "report_id", "engagement": "engagement_id"}


def event_key(kind: str, record: dict[str, Any]) -> bytes:
    """The raw topics' key (SPEC 2): `agency_id:<kind>_id`, so revisions share a partition."""
    return f"{record['agency_id']}:{record[ID_FIELDS[kind]]}".encode()


@dataclass
class SendTally:
    """What happened to the sends, filled in by `DeliveryTracker` from the send futures."""

    acknowledged: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    @property
    def total_failed(self) -> int:
        return sum(self.failed.values())


# One encoded event ready for the broker: (kind, key, Avro single-object value, key hash).
Prepared = tuple[str, bytes, bytes, int]


def key_hash(key: bytes) -> int:
    """The part of kafka-python's default partitioner that depends only on the key.

    The partition is `sorted(partitions)[key_hash(key) % len(partitions)]`, exactly what
    `DefaultPartitioner` picks, so events land where a plain `producer.send` would put them;
    computing the murmur2 hash where the event is encoded (a worker process) takes it off the
    sending process.
    """
    return murmur2_words(key) & 0x7FFFFFFF


_MURMUR_M = 0x5BD1E995  # murmur2's mixing constant (Kafka's Utils.murmur2)
_MURMUR_SEED = 0x9747B28C
_MASK32 = 0xFFFFFFFF
# struct layouts by word count: keys are a few dozen bytes, so a few layouts serve an import.
_WORDS: dict[int, struct.Struct] = {}


def murmur2_words(data: bytes) -> int:
    """kafka-python's `murmur2(data)`, reading the key four bytes at a time with `struct`.

    The same arithmetic on the same 32-bit words (little-endian, as Kafka's Java client reads
    them), without the per-byte masks that cannot change a byte or an already masked value:
    about half the time of the original, whose result tests compare it with.
    """
    length = len(data)
    h = _MURMUR_SEED ^ length
    count = length >> 2
    layout = _WORDS.get(count)
    if layout is None:
        layout = _WORDS[count] = struct.Struct(f"<{count}I")
    for k in layout.unpack_from(data):
        k = (k * _MURMUR_M) & _MASK32
        k ^= k >> 24
        k = (k * _MURMUR_M) & _MASK32
        h = ((h * _MURMUR_M) & _MASK32) ^ k
    tail, base = length & 3, length & ~3
    if tail >= 3:
        h ^= data[base + 2] << 16
    if tail >= 2:
        h ^= data[base + 1] << 8
    if tail >= 1:
        h ^= data[base]
        h = (h * _MURMUR_M) & _MASK32
    h ^= h >> 13
    h = (h * _MURMUR_M) & _MASK32
    h ^= h >> 15
    return h


class DeliveryTracker:
    """Counts what became of each send by looking at its future, oldest first.

    Cheaper than callbacks (no two closures per record, nothing run on the sender thread):
    `settle()` after each chunk tallies the futures that are already done, so memory stays
    bounded by what is in flight, and `settle(final=True)` after a flush tallies the rest,
    counting a future still not done (flush timed out) as failed.
    """

    def __init__(self, tally: SendTally) -> None:
        self.tally = tally
        self.pending: deque[tuple[str, Any]] = deque()

    def add(self, kind: str, future: Any) -> None:
        self.pending.append((kind, future))

    def settle(self, final: bool = False) -> None:
        pending, tally = self.pending, self.tally
        acknowledged = tally.acknowledged
        while pending:
            kind, future = pending[0]
            if not future.is_done:
                if not final:
                    return
                self._failed(kind, "not acknowledged before the flush timed out")
            elif future.exception is None:
                acknowledged[kind] += 1
            else:
                self._failed(kind, str(future.exception) or type(future.exception).__name__)
            pending.popleft()

    def _failed(self, kind: str, reason: str) -> None:
        self.tally.failed[kind] += 1
        if len(self.tally.errors) < 20:
            self.tally.errors.append(f"{kind}: {reason}")


class RawSender:
    """Encodes records with the current schema and sends them keyed to their raw topic."""

    def __init__(
        self, producer: KafkaProducer, schemas: SchemaStore, names: TopicNames | None = None
    ) -> None:
        self.producer = producer
        self.names = names or TopicNames()
        self.schemas = schemas
        self.tally = SendTally()
        self.tracker = DeliveryTracker(self.tally)
        self._topics = {kind: self.names.raw(kind) for kind in KIND_SCHEMAS}
        self._partitions: dict[str, list[int]] = {}

    def send(self, kind: str, record: dict[str, Any]) -> None:
        value = self.schemas.encode(KIND_SCHEMAS[kind], record)
        self.send_bytes(kind, event_key(kind, record), value)

    def send_bytes(self, kind: str, key: bytes, value: bytes, headers: Any = None) -> None:
        future = self.producer.send(self._topics[kind], value=value, key=key, headers=headers)
        pending = self.tracker.pending
        pending.append((kind, future))
        if len(pending) >= SETTLE_AT:
            self.tracker.settle()

    def send_prepared(self, chunk: Iterable[Prepared]) -> None:
        """Send events encoded elsewhere (a worker process); the loop does nothing else."""
        send, topics, add = self.producer.send, self._topics, self.tracker.pending.append
        partitions = self._partitions
        for kind, key, value, hashed in chunk:
            parts = partitions.get(kind) or self._partitions_of(kind)
            partition = parts[hashed % len(parts)]
            add((kind, send(topics[kind], value=value, key=key, partition=partition)))
        self.tracker.settle()

    def _partitions_of(self, kind: str) -> list[int]:
        """The topic's partitions, sorted as the default partitioner sorts them (waits for
        metadata like the first `send` to a topic does)."""
        parts = sorted(self.producer.partitions_for(self._topics[kind]))
        self._partitions[kind] = parts
        return parts

    def flush(self, timeout: float | None = 60) -> None:
        try:
            self.producer.flush(timeout=timeout)
        finally:
            self.tracker.settle(final=True)
