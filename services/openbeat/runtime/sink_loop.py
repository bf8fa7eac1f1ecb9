"""The loop of services whose output is the object store (publisher, aggregator, alerter).

Kafka transactions cannot cover an object store, so these services get effectively-once output
differently: every output is written under a deterministic key (a replay overwrites instead of
duplicating) or from idempotent state, and input offsets are committed only after
`processor.flush()` has made everything absorbed so far durable. A crash replays at most the
messages since the last commit, and replaying them changes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kafka import TopicPartition
from kafka.structs import OffsetAndMetadata

from openbeat.runtime.clients import make_consumer
from openbeat.runtime.loop import LoopStats, StopFlag, _Listener, idle

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
    idle_assignment_timeout_s: float = 60.0


class _SinkListener(_Listener):
    """Before partitions move, flush and commit so the next owner starts where we stopped."""

    def __init__(self, processor: SinkProcessor, commit: Any) -> None:
        super().__init__(processor)  # type: ignore[arg-type]
        self.commit = commit

    def on_partitions_revoked(self, revoked: Any) -> None:
        if revoked:
            self.commit()
        super().on_partitions_revoked(revoked)


def run_sink_loop(
    processor: SinkProcessor, config: SinkConfig, stop: StopFlag | None = None
) -> LoopStats:
    stop = stop or StopFlag()
    stats = LoopStats()
    consumer = make_consumer(
        config.bootstrap,
        client_id=config.client_id,
        group_id=config.group_id,
        instance_id=config.client_id,
    )
    pending: dict[TopicPartition, int] = {}

    def commit(final: bool = False) -> None:
        processor.flush(final)
        if pending:
            consumer.commit({tp: OffsetAndMetadata(o, "", -1) for tp, o in pending.items()})
            pending.clear()
            stats.transactions += 1

    try:
        consumer.subscribe(list(processor.input_topics), listener=_SinkListener(processor, commit))
        started = last_commit = time.monotonic()
        while not stop.is_set():
            batch = consumer.poll(timeout_ms=config.poll_timeout_ms, max_records=config.max_batch)
            for tp, messages in batch.items():
                for message in messages:
                    processor.process(message)
                pending[tp] = messages[-1].offset + 1
                stats.consumed += len(messages)
            if batch:
                processor.after_batch()
            if time.monotonic() - last_commit >= config.commit_interval_s:
                commit()
                last_commit = time.monotonic()
            if (
                not batch
                and config.until_idle
                and idle(
                    consumer, processor.input_topics, started, config.idle_assignment_timeout_s
                )
            ):
                break
        commit(final=True)
    finally:
        consumer.close(autocommit=False)
    return stats
