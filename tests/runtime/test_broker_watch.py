"""An idle loop notices a broker that stopped answering (runtime.broker_watch)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import pytest
from kafka import TopicPartition
from kafka.errors import KafkaTimeoutError

from openbeat.runtime.broker_watch import BrokerSilent, BrokerWaits, BrokerWatch
from openbeat.runtime.health import HEALTH
from openbeat.runtime.supervise import describe_fault, is_transient


class FakeConsumer:
    """Only what the watch asks of a consumer; `down` makes every broker request time out."""

    def __init__(self, assigned: set[TopicPartition] | None = None) -> None:
        self.assigned = assigned or set()
        self.down = False
        self.asked: list[list[TopicPartition]] = []

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    def partitions_for_topic(self, topic: str) -> set[int]:
        if self.down:
            raise KafkaTimeoutError("metadata")
        return {0, 1, 2}

    def end_offsets(self, partitions: list[TopicPartition], timeout_ms: int) -> dict[Any, int]:
        self.asked.append(partitions)
        if self.down:
            raise KafkaTimeoutError(f"failed to get offsets in {timeout_ms} ms")
        return {tp: 0 for tp in partitions}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def watch_of(consumer: FakeConsumer, clock: Clock) -> BrokerWatch:
    return BrokerWatch(consumer, ["raw.incidents"], every_s=10, timeout_s=5, clock=clock)  # type: ignore[arg-type]


def test_a_busy_loop_never_probes() -> None:
    consumer, clock = FakeConsumer(), Clock()
    watch = watch_of(consumer, clock)
    for _ in range(100):
        clock.now += 1
        watch.heard()
        watch.check()
    assert consumer.asked == []


def test_an_idle_loop_probes_once_per_interval_and_passes_while_the_broker_answers() -> None:
    consumer, clock = FakeConsumer({TopicPartition("raw.incidents", 2)}), Clock()
    watch = watch_of(consumer, clock)
    for _ in range(30):
        clock.now += 1
        watch.check()
    assert consumer.asked == [[TopicPartition("raw.incidents", 2)]] * 3


def test_a_silent_broker_raises_a_transient_fault_the_supervisor_names() -> None:
    consumer, clock = FakeConsumer(), Clock()
    watch = watch_of(consumer, clock)
    consumer.down = True
    clock.now = 9
    watch.check()  # not idle long enough to ask yet
    clock.now = 10
    with pytest.raises(BrokerSilent) as caught:
        watch.check()
    assert is_transient(caught.value)
    said = describe_fault(caught.value, "broker:9092")
    assert said.startswith("Kafka at broker:9092 is unavailable or not answering (BrokerSilent: ")
    assert "raw.incidents" in said and "BrokerSilent: BrokerSilent" not in said


def test_a_watch_without_partitions_to_ask_about_waits() -> None:
    consumer, clock = FakeConsumer(), Clock()
    watch = BrokerWatch(consumer, [], every_s=1, clock=clock)  # type: ignore[arg-type]
    clock.now = 5
    watch.check()
    assert consumer.asked == []


def _wait_for(predicate: Any, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False


def test_a_commit_waiting_on_a_dead_broker_is_said_and_unhealthy_until_it_returns(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """kafka-python's commit waits unbounded: the service names itself while it hangs."""
    waits = BrokerWaits("anonymizer", "k:9092", after_s=0.2, tick_s=0.02)
    release = threading.Event()
    seen: list[bool] = []

    def commit() -> None:
        with waits.waiting("committing a transaction"):
            release.wait(10)

    caplog.set_level(logging.INFO, logger="openbeat.runtime.broker_watch")
    worker = threading.Thread(target=commit)
    worker.start()
    try:
        assert _wait_for(lambda: "broker-wait:anonymizer" in HEALTH.faults())
        warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warned) == 1
        assert warned[0].startswith("service anonymizer: Kafka at k:9092 is unavailable")
        assert "while committing a transaction" in warned[0]
        seen.append(HEALTH.healthy)
    finally:
        release.set()
        worker.join(5)
        waits.close()
    assert seen == [False]
    assert "broker-wait:anonymizer" not in HEALTH.faults()
    assert any("answered again" in r.getMessage() for r in caplog.records)


def test_a_commit_answered_in_time_says_nothing(caplog: pytest.LogCaptureFixture) -> None:
    waits = BrokerWaits("publisher", "k:9092", after_s=0.5, tick_s=0.02)
    caplog.set_level(logging.INFO, logger="openbeat.runtime.broker_watch")
    try:
        for _ in range(20):
            with waits.waiting("committing offsets"):
                time.sleep(0.01)
        time.sleep(0.6)  # the watcher looks again after the last call returned
    finally:
        waits.close()
    assert not caplog.records
    assert "broker-wait:publisher" not in HEALTH.faults()
