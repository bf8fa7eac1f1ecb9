"""The publisher: public topics in; staged parts in the private store out; releases on a schedule.

Staged parts hold records that may not be old enough to publish yet (the policy's publication
delay), so they live in the private store; only releases reach the public root.

Each flush writes one part per (topic, partition) holding the records consumed since the last
flush, under a key made of topic, partition and offset range (Kafka Connect S3 sink style), and
only then are the offsets committed. A crash before the commit replays those records into a part
that overwrites or overlaps the old one, and `read_staged` reads every offset once. Flushes also
happen on a timer, so a quiet topic never holds data back.

Copies of the publisher split the partitions. A partition taken away in a rebalance loses its
buffered records (`revoked`): its offsets were not committed, so whoever owns it next reads them
again. Kept, they would end up in a part spanning the records another copy staged meanwhile.

A release is cut on a thread of its own (`_releases`): reading every staged part back takes
minutes on a large store, and on the polling thread it would outlast max.poll.interval.ms (the
group would expel this copy mid-release) and hold back staging. The loop goes on polling and
staging; the next release starts once this one is done, and a failed release fails the service
at the next flush. The final flush waits for a running release.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from kafka import TopicPartition

from openbeat.contracts.codec import SchemaStore
from openbeat.pipeline.public_input import decode_topic_record
from openbeat.releases import stage_part
from openbeat.runtime.topics import TopicNames
from openbeat.store import ObjectStore

logger = logging.getLogger(__name__)

SOURCES = {"incident": "incidents", "report": "reports", "engagement": "engagements"}
# Written at the first flush (before any offset is committed), so that a store which lost the
# staged parts is told apart from one that never had any (runtime.state_loss).
STARTED_KEY = "_internal/publisher/started.json"


class PublisherProcessor:
    """The publisher as a sink-loop processor."""

    def __init__(
        self,
        *,
        names: TopicNames,
        schemas: SchemaStore,
        private: ObjectStore,
        release: Callable[[datetime], list[str]] | None = None,
        release_interval_s: int = 0,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.names = names
        self.schemas = schemas
        self.private = private
        self.release = release
        self.release_interval_s = release_interval_s
        self.clock = clock
        self.sources = {names.public(kind): source for kind, source in SOURCES.items()}
        self.input_topics: Sequence[str] = list(self.sources)
        self.buffers: dict[tuple[str, int], list[tuple[int, dict[str, Any]]]] = {}
        self.parts = 0
        self.staged = 0
        self.last_release_slot: int | None = None
        # Wall-clock end of the last scheduled release pass (metrics: last release age).
        self.last_release_at: float | None = None
        self._started_seen: bool | None = None
        self._releases = ThreadPoolExecutor(1, thread_name_prefix="publisher-release")
        # The release being cut: its slot and its future.
        self._releasing: tuple[int, Future[None]] | None = None
        # Releases of scheduled passes that were not published (metrics: releases failed),
        # e.g. refused by the release gate: latest.json stayed at the previous release.
        self.releases_failed = 0

    def assigned(self, partitions: set[TopicPartition]) -> None:
        """Nothing to restore: staged parts already hold everything committed."""

    def revoked(self, partitions: set[TopicPartition]) -> None:
        """Drop what was buffered for these partitions: it was not committed, so it is read
        again from the committed offset by their next owner (module docstring)."""
        for tp in partitions:
            dropped = self.buffers.pop((tp.topic, tp.partition), None)
            if dropped:
                logger.info(
                    "dropped %d unstaged records of %s[%d] (revoked; read again by its owner)",
                    len(dropped),
                    tp.topic,
                    tp.partition,
                )

    def process(self, message: Any) -> None:
        """Buffer one record; a record that cannot be used raises (the loop dead-letters it)."""
        record = decode_topic_record(self.schemas, message)
        self.buffers.setdefault((message.topic, message.partition), []).append(
            (message.offset, record)
        )

    def after_batch(self) -> None:
        """Parts are written at flush time, so that they are few and large."""

    def flush(self, final: bool) -> None:
        if not self._started:
            self.private.put(STARTED_KEY, b"{}", "application/json")
            self._started = True
        for (topic, partition), records in sorted(self.buffers.items()):
            if not records:
                continue
            key = stage_part(
                self.private,
                self.sources[topic],
                topic,
                partition,
                records[0][0],
                records[-1][0],
                records,
            )
            self.parts += 1
            self.staged += len(records)
            logger.info("staged %d records as %s", len(records), key)
        self.buffers.clear()
        self._maybe_release(final)

    def _maybe_release(self, final: bool = False) -> None:
        """Cut releases once per interval, with the interval's start as the cutoff, so every
        copy of the publisher (and every retry) agrees on the release id; off this thread."""
        self._collect(wait=final)
        if not self.release or self.release_interval_s <= 0 or self._releasing is not None:
            return
        now = self.clock()
        slot = int(now.timestamp()) // self.release_interval_s
        if slot == self.last_release_slot:
            return
        cutoff = datetime.fromtimestamp(slot * self.release_interval_s, UTC)
        self._releasing = (slot, self._releases.submit(self._cut, cutoff))
        if final:
            self._collect(wait=True)

    def _cut(self, cutoff: datetime) -> None:
        assert self.release is not None
        failed = set()
        for line in self.release(cutoff):
            if ": FAILED " in line:  # releasing.describe: "<dataset>: FAILED <error>"
                failed.add(line.split(":", 1)[0])
                logger.error("%s", line)
            else:
                logger.info("%s", line)
        self.releases_failed += len(failed)

    def _collect(self, wait: bool) -> None:
        """Note the release that finished (or, with `wait`, is running); raise its error."""
        if self._releasing is None:
            return
        slot, future = self._releasing
        if not wait and not future.done():
            return
        self._releasing = None
        future.result()  # a failed release fails the service, as it did on the loop thread
        self.last_release_slot = slot
        self.last_release_at = time.time()

    @property
    def _started(self) -> bool:
        if self._started_seen is None:
            self._started_seen = self.private.exists(STARTED_KEY) or any(
                self.private.list(f"staging/{source}/") for source in SOURCES.values()
            )
        return self._started_seen

    @_started.setter
    def _started(self, value: bool) -> None:
        self._started_seen = value

    def state_missing(self) -> str | None:
        """What of its state the store lacks at start (runtime.state_loss)."""
        return None if self._started else "every staged record (staging/)"

    def releasing(self) -> bool:
        """True while a release is being cut."""
        return self._releasing is not None and not self._releasing[1].done()

    def report(self) -> list[str]:
        return [f"staged {self.staged} public records in {self.parts} parts"]
