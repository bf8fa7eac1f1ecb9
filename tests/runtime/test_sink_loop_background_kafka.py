"""The sink loop with a background flush: offsets are committed only after the flush that covers
them is durable, the loop keeps consuming meanwhile, and a failed flush stops the loop."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from openbeat.runtime.clients import make_producer
from openbeat.runtime.loop import StopFlag
from openbeat.runtime.sink_loop import SinkConfig, run_sink_loop

pytestmark = pytest.mark.integration


class _Processor:
    """Absorbs values; each background flush is a future the test completes by hand."""

    def __init__(self, topic: str) -> None:
        self.input_topics = [topic]
        self.seen: list[bytes] = []
        self.flushes: list[Future[None]] = []
        self.started = threading.Event()

    def process(self, message: Any) -> None:
        self.seen.append(message.value)

    def after_batch(self) -> None:
        pass

    def flush(self, final: bool) -> None:
        pass

    def flush_in_background(self) -> Future[None]:
        future: Future[None] = Future()
        self.flushes.append(future)
        self.started.set()
        return future

    def assigned(self, partitions: set[TopicPartition]) -> None:
        pass

    def revoked(self, partitions: set[TopicPartition]) -> None:
        pass


def _send(bootstrap: str, topic: str, values: range) -> None:
    producer = make_producer(bootstrap, client_id="sink-bg-test", linger_ms=0)
    for i in values:
        producer.send(topic, value=str(i).encode())
    producer.flush()
    producer.close()


def _committed(bootstrap: str, group: str, topic: str) -> int | None:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    try:
        return consumer.committed(TopicPartition(topic, 0))
    finally:
        consumer.close(autocommit=False)


def _until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _finish(stop: StopFlag, thread: threading.Thread, processor: _Processor) -> None:
    """Stop the loop; its final commit waits for every background flush, so finish them."""
    stop.set()
    deadline = time.monotonic() + 30
    while thread.is_alive():
        for future in processor.flushes:
            if not future.done():
                future.set_result(None)
        thread.join(0.1)
        assert time.monotonic() < deadline, "the sink loop did not stop"


def _start(bootstrap: str, group: str, processor: _Processor) -> tuple[StopFlag, dict, Any]:
    config = SinkConfig(bootstrap=bootstrap, group_id=group, client_id=group, commit_interval_s=0.2)
    stop = StopFlag()
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["stats"] = run_sink_loop(processor, config, stop)
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    return stop, outcome, thread


def test_offsets_wait_for_the_background_flush_and_consuming_goes_on(
    kafka_bootstrap: str, make_topic: Callable[..., str], unique_name: Callable[[str], str]
) -> None:
    topic, group = make_topic("sink-bg"), unique_name("sink-bg")
    _send(kafka_bootstrap, topic, range(10))
    processor = _Processor(topic)
    stop, outcome, thread = _start(kafka_bootstrap, group, processor)
    try:
        _until(lambda: len(processor.seen) == 10 and processor.started.is_set())
        # More input while the first flush is still being written: consumed at once...
        _send(kafka_bootstrap, topic, range(10, 15))
        _until(lambda: len(processor.seen) == 15)
        time.sleep(0.5)
        # ...but nothing committed, and no second flush started over the running one.
        assert _committed(kafka_bootstrap, group, topic) is None
        assert len(processor.flushes) == 1
        processor.flushes[0].set_result(None)

        def all_flushed_and_committed() -> bool:
            for future in processor.flushes:
                if not future.done():
                    future.set_result(None)
            return _committed(kafka_bootstrap, group, topic) == 15

        _until(all_flushed_and_committed)
    finally:
        _finish(stop, thread, processor)
    assert "error" not in outcome


def test_a_failed_background_flush_stops_the_loop_uncommitted(
    kafka_bootstrap: str, make_topic: Callable[..., str], unique_name: Callable[[str], str]
) -> None:
    topic, group = make_topic("sink-bg"), unique_name("sink-bg")
    _send(kafka_bootstrap, topic, range(5))
    processor = _Processor(topic)
    stop, outcome, thread = _start(kafka_bootstrap, group, processor)
    try:
        _until(processor.started.is_set)
        processor.flushes[0].set_exception(OSError("disk full"))
        thread.join(30)
    finally:
        _finish(stop, thread, processor)
    assert isinstance(outcome.get("error"), OSError)
    assert _committed(kafka_bootstrap, group, topic) is None
