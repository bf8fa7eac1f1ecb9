"""Rebalances are settled on the polling thread (issue 10.2), against the real broker.

State is restored in the loop's own thread while the new partitions are paused, never in the
rebalance listener (kafka-python runs it on its IO thread, where a slow restore stops
heartbeats): no record of a partition reaches the processor before its restore returned.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from kafka import TopicPartition

from openbeat.runtime.clients import make_producer
from openbeat.runtime.lifecycle import StopFlag
from openbeat.runtime.loop import LoopConfig, Out, run_loop
from service_copies import in_thread, until

pytestmark = pytest.mark.integration

RESTORE_S = 1.5


class _Restoring:
    """A transactional processor whose restore is slow and notes where and when things ran."""

    def __init__(self, topic: str, out: str) -> None:
        self.input_topics = [topic]
        self.out = out
        self.restore_threads: list[str] = []
        self.restored: set[TopicPartition] = set()
        self.early: list[tuple[int, int]] = []  # records seen before their partition's restore
        self.seen = 0

    def assigned(self, partitions: set[TopicPartition]) -> None:
        self.restore_threads.append(threading.current_thread().name)
        time.sleep(RESTORE_S)  # a changelog read
        self.restored |= partitions

    def revoked(self, partitions: set[TopicPartition]) -> None:
        self.restored -= partitions

    def process(self, message: Any) -> Iterable[Out]:
        if TopicPartition(message.topic, message.partition) not in self.restored:
            self.early.append((message.partition, message.offset))
        self.seen += 1
        return [Out(self.out, message.value)]

    def commit(self) -> None:
        pass

    def abort(self) -> None:
        pass


def _send(bootstrap: str, topic: str, count: int, partitions: int) -> None:
    producer = make_producer(bootstrap, client_id="settle-test", linger_ms=0)
    for i in range(count):
        producer.send(topic, value=str(i).encode(), partition=i % partitions)
    producer.flush()
    producer.close()


def test_restore_runs_on_the_polling_thread_with_the_partitions_paused(
    kafka_bootstrap: str, make_topic: Callable[..., str], unique_name: Callable[[str], str]
) -> None:
    topic, out = make_topic("settle-in", partitions=3), make_topic("settle-out")
    _send(kafka_bootstrap, topic, 300, 3)
    processor = _Restoring(topic, out)
    group = unique_name("settle")
    config = LoopConfig(kafka_bootstrap, group, group, group, max_batch=50)
    stop = StopFlag()
    thread, outcome = in_thread(lambda: run_loop(processor, config, stop), "polling-thread")
    try:
        until(lambda: processor.seen >= 300 or "error" in outcome, 90, "all consumed")
    finally:
        stop.set()
        thread.join(60)
    assert "error" not in outcome, outcome.get("error")
    assert processor.restore_threads and set(processor.restore_threads) == {"polling-thread"}
    assert processor.early == []
