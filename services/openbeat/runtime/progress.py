"""Progress of a `run --until-idle` service on a terminal: one line, rewritten every second.

A backfill runs each service over hundreds of thousands of records for minutes; on a terminal
the operator sees `anonymizer: 120,000 of 299,151 input records (40%), 7,512/s`. The figure is
the consumer group's committed offsets against the input topics' end offsets (from the start
offsets), read from the broker by a separate thread with its own clients, so the service's loop
is untouched and pays nothing. Off a terminal (logs, pipes, CI) nothing is printed at all: the
summary lines at the end say what happened.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import IO, Any, TypeVar

from openbeat.runtime.clients import BOOTSTRAP_TIMEOUT_MS

logger = logging.getLogger(__name__)

INTERVAL_S = 1.0
# How often `counted` reports: rare enough to cost nothing per record (a release reads hundreds
# of thousands), often enough that a terminal line moves several times a second.
REPORT_EVERY = 5_000

T = TypeVar("T")


def counted(
    items: Iterable[T], report: Callable[[int], None] | None, every: int = REPORT_EVERY
) -> Iterator[T]:
    """`items` unchanged; `report(n)` after every `every` items and once at the end (with the
    total). With no `report` the items pass straight through."""
    if report is None:
        yield from items
        return
    n = 0
    for item in items:
        yield item
        n += 1
        if n % every == 0:
            report(n)
    report(n)


def describe(name: str, done: int, total: int, rate: float) -> str:
    """The progress line (without the carriage return)."""
    share = f" ({done / total:.0%})" if total else ""
    speed = f", {rate:,.0f}/s" if rate > 0 else ""
    return f"{name}: {done:,} of {total:,} input records{share}{speed}"


class GroupProgress:
    """Reads a group's committed offsets against its topics' offsets until stopped."""

    def __init__(
        self, name: str, bootstrap: str, group_id: str, topics: Sequence[str], out: IO[str]
    ) -> None:
        self.name = name
        self.bootstrap = bootstrap
        self.group_id = group_id
        self.topics = list(topics)
        self.out = out
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"{name}-progress", daemon=True)
        self._width = 0

    def __enter__(self) -> GroupProgress:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join(timeout=5)
        if self._width:
            self.out.write("\r" + " " * self._width + "\r")
            self.out.flush()

    def _run(self) -> None:
        try:
            self._watch()
        except Exception:  # progress is a courtesy: never let it disturb the service
            logger.debug("progress for %s stopped", self.name, exc_info=True)

    def _watch(self) -> None:
        from kafka import KafkaConsumer, TopicPartition
        from kafka.admin import KafkaAdminClient

        servers = self.bootstrap.split(",")
        admin = KafkaAdminClient(
            bootstrap_servers=servers,
            client_id=f"{self.group_id}-progress",
            bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
        )
        consumer = KafkaConsumer(
            bootstrap_servers=servers,
            client_id=f"{self.group_id}-progress",
            enable_auto_commit=False,
            isolation_level="read_committed",
        )
        try:
            parts = [
                TopicPartition(topic, p)
                for topic in self.topics
                for p in sorted(consumer.partitions_for_topic(topic) or ())
            ]
            start = consumer.beginning_offsets(parts)
            first: tuple[float, int] | None = None
            while not self.stopped.wait(INTERVAL_S):
                end = consumer.end_offsets(parts)
                committed = admin.list_group_offsets({self.group_id: None}).get(self.group_id, {})
                done = sum(
                    max(_offset(committed.get(tp)) - start[tp], 0) for tp in parts if tp in start
                )
                total = sum(end[tp] - start[tp] for tp in parts)
                now = time.monotonic()
                first = first or (now, done)
                rate = (done - first[1]) / (now - first[0]) if now > first[0] else 0.0
                self._show(describe(self.name, min(done, total), total, rate))
        finally:
            consumer.close()
            admin.close()

    def _show(self, line: str) -> None:
        pad = max(self._width - len(line), 0)
        self.out.write("\r" + line + " " * pad)
        self.out.flush()
        self._width = len(line)


def _offset(meta: Any) -> int:
    return int(meta.offset) if meta is not None and meta.offset is not None else 0
