"""What both loops share about a consumer's life: stopping, and rebalances.

Rebalances are handled on the polling thread, never in the listener. kafka-python 3 runs the
rebalance listener on its IO thread, where blocking work (restoring state from a changelog)
stops heartbeats and can cost the member its partitions. So the listener only records what
happened and pauses the partitions it was given; after each poll the loop calls
`Rebalances.settle`, which tells the processor what it lost (drop its buffers and state), lets
it restore what it gained while those partitions stay paused (no record of theirs is returned
before their state is back), and only then resumes them.

A partition taken away and given back in between is revoked first, then assigned: whatever the
processor held for it is dropped and rebuilt from the committed offsets, and the consumer is
sought back to them (kafka-python keeps the old position of a partition it gets back in the same
rebalance, which would skip everything read but not committed).
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterable
from typing import Any, Protocol

from kafka import KafkaConsumer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener

logger = logging.getLogger(__name__)


class StopFlag:
    """Set by SIGTERM/SIGINT: the loop finishes its transaction and returns."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float) -> bool:
        """Sleep up to `timeout` seconds, waking early when set; True when set."""
        return self._event.wait(timeout)

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.set())


class Owner(Protocol):
    """What a processor does when partitions come and go (both loops' processors)."""

    def assigned(self, partitions: set[TopicPartition]) -> None:
        """Partitions now ours: restore their state before their first message."""

    def revoked(self, partitions: set[TopicPartition]) -> None:
        """Partitions taken away: drop their state and whatever was buffered for them."""


class Rebalances(ConsumerRebalanceListener):
    """The rebalance listener of a loop's consumer (see the module docstring).

    `consumer` is the consumer the listener is subscribed with; without one (tests driving a
    loop step by hand) nothing is paused.
    """

    def __init__(self, processor: Owner, consumer: KafkaConsumer | None = None) -> None:
        self.processor = processor
        self.consumer = consumer
        # Every callback, even with no partitions: the transactional loop compares it around
        # a prefetch poll to tell whether a rebalance ran inside it.
        self.calls = 0
        self._lock = threading.Lock()
        self._revoked: set[TopicPartition] = set()
        self._assigned: set[TopicPartition] = set()

    def on_partitions_revoked(self, revoked: Any) -> None:
        self.calls += 1
        if revoked:
            logger.info("partitions revoked: %s", fmt_partitions(revoked))
            with self._lock:
                self._revoked |= set(revoked)
                self._assigned -= set(revoked)

    def on_partitions_lost(self, lost: Any) -> None:
        # Lost (the member was expelled) is revoked without the chance to commit, which the
        # loops never do from here anyway.
        self.on_partitions_revoked(lost)

    def on_partitions_assigned(self, assigned: Any) -> None:
        self.calls += 1
        if assigned:
            logger.info("partitions assigned: %s", fmt_partitions(assigned))
            if self.consumer is not None:
                # Paused until the polling thread restored their state (`settle`).
                self.consumer.pause(*assigned)
            with self._lock:
                self._assigned |= set(assigned)

    def pending(self) -> bool:
        """True when a rebalance happened that `settle` has not handled yet."""
        with self._lock:
            return bool(self._revoked or self._assigned)

    def settle(self) -> set[TopicPartition]:
        """On the polling thread, after a poll: revoke, restore, resume. Returns the revoked
        partitions, whose uncommitted progress the loop must forget too."""
        with self._lock:
            revoked, assigned = self._revoked, self._assigned
            self._revoked, self._assigned = set(), set()
        if revoked:
            self.processor.revoked(revoked)
        if assigned:
            if self.consumer is not None:
                assigned &= self.consumer.assignment()
                # kafka-python keeps the position of a partition assigned again in the same
                # rebalance; whatever this copy held past the committed offset is gone now.
                rewind(self.consumer, assigned)
            if assigned:
                self.processor.assigned(assigned)
                if self.consumer is not None:
                    self.consumer.resume(*assigned)
        return revoked


def fmt_partitions(partitions: Iterable[TopicPartition]) -> str:
    return ", ".join(sorted(f"{tp.topic}[{tp.partition}]" for tp in partitions))


def rewind(consumer: KafkaConsumer, partitions: Iterable[TopicPartition]) -> None:
    """Seek each partition still ours back to its committed offset (the beginning if none)."""
    assigned = consumer.assignment()
    for tp in partitions:
        if tp not in assigned:
            continue
        committed = consumer.committed(tp)
        if committed is None:
            consumer.seek_to_beginning(tp)
        else:
            consumer.seek(tp, committed)
