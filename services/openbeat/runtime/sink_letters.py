"""Dead letters of the sink loop (publisher, aggregator, alerter), which has no transaction.

The sink stages write to the object store, not to Kafka, so they have no transactional
producer. A record one of them cannot absorb (see pipeline.public_input) is sent to the
dead-letter topic by an idempotent producer made on the first such record, and that producer is
flushed before input offsets are committed: the dead letter is durable before the offset that
would skip it. A crash between the two replays the record, which may dead-letter it twice (the
dead-letter topic is at-least-once from the sinks; every letter names its source offset, so
copies are easy to tell apart).
"""

from __future__ import annotations

import logging
from typing import Any

from kafka import KafkaProducer

from openbeat.runtime.clients import make_producer
from openbeat.runtime.deadletter import Rejection, dead_letter, guarded

logger = logging.getLogger(__name__)

# The producer's flush waits this long for the broker before the commit is abandoned (the
# service then stops and replays from its last commit; nothing is skipped).
FLUSH_TIMEOUT_S = 60.0


class SinkLetters:
    """Handles each record through `guarded`, sending dead letters to `topic`."""

    def __init__(self, bootstrap: str, client_id: str, topic: str | None) -> None:
        self.bootstrap = bootstrap
        self.client_id = client_id
        self.topic = topic
        self.by_reason: dict[str, int] = {}
        self._producer: KafkaProducer | None = None
        self._unflushed: list[Any] = []

    @property
    def total(self) -> int:
        return sum(self.by_reason.values())

    def process(self, processor: Any, message: Any) -> None:
        """`processor.process(message)`; any exception dead-letters the message instead."""
        guarded(
            lambda: processor.process(message),
            lambda rejection: self.send(message, rejection),
            f"{message.topic}[{message.partition}]@{message.offset}",
        )

    def send(self, message: Any, rejection: Rejection) -> None:
        self.by_reason[rejection.code] = self.by_reason.get(rejection.code, 0) + 1
        if self.topic is None:  # a bare test loop without a dead-letter topic: count and log
            return
        letter = dead_letter(
            self.topic,
            (message.topic, message.partition, message.offset),
            message.key,
            message.value,
            list(message.headers or ()),
            rejection,
        )
        if self._producer is None:
            self._producer = make_producer(self.bootstrap, client_id=f"{self.client_id}-dlq")
        future = self._producer.send(
            letter.topic,
            key=letter.key,
            value=letter.value,
            headers=list(letter.headers) or None,
        )
        self._unflushed.append(future)

    def flush(self) -> None:
        """Make every dead letter sent so far durable (called before offsets are committed)."""
        if self._producer is None or not self._unflushed:
            return
        self._producer.flush(timeout=FLUSH_TIMEOUT_S)
        futures, self._unflushed = self._unflushed, []
        for future in futures:
            # Raises the send's error: the offsets are then not committed, nothing is skipped.
            future.get(timeout=0)

    def close(self) -> None:
        if self._producer is not None:
            producer, self._producer = self._producer, None
            producer.close(timeout=10)
