"""An idle loop notices a broker that stopped answering (runtime.broker_watch)."""

from __future__ import annotations

from typing import Any

import pytest
from kafka import TopicPartition
from kafka.errors import KafkaTimeoutError

from openbeat.runtime.broker_watch import BrokerSilent, BrokerWatch
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
