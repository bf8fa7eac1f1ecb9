"""The test broker's place and a group-less topic reader, shared by conftest and by tests that
drive the broker themselves (a test module cannot import `conftest`: every test folder with
fixtures of its own has one, and the name resolves to whichever came first on sys.path)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
KAFKA_SCRIPT = REPO_ROOT / "infra" / "kafka.sh"
_BASE_PORT = int(os.environ.get("OPENBEAT_TEST_KAFKA_PORT", "19092"))
# `make test` runs pytest-xdist workers (gw0, gw1, ...; TEST_WORKERS), each with a broker of
# its own, so a test that kills or fills its broker cannot disturb the other worker's tests. Ports
# step by 10 because kafka.sh puts the controller on port + 1.
_WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")
_INDEX = int(_WORKER[2:]) if _WORKER.startswith("gw") and _WORKER[2:].isdigit() else 0
TEST_KAFKA_PORT = str(_BASE_PORT + 10 * _INDEX)
TEST_KAFKA_HOME = REPO_ROOT / "var" / (f"test-kafka-{_WORKER}" if _WORKER else "test-kafka")


def consume_all(
    bootstrap: str, topic: str, *, timeout_s: float = 20.0, expect: int | None = None
) -> list:
    """Every committed message of a topic (all partitions), read without a consumer group."""
    import time

    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    try:
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        out: list = []
        deadline = time.monotonic() + timeout_s
        done = False
        while time.monotonic() < deadline:
            ends = consumer.end_offsets(partitions)
            done = all(consumer.position(tp) >= ends[tp] for tp in partitions)
            if done and (expect is None or len(out) >= expect):
                break
            for messages in consumer.poll(timeout_ms=200).values():
                out.extend(messages)
        if not done:
            ends = consumer.end_offsets(partitions)
            done = all(consumer.position(tp) >= ends[tp] for tp in partitions)
        if not done:
            # A partial read would make the caller compare against part of the topic (a test
            # that passes or fails for the wrong reason); `expect` shortfalls are the caller's.
            behind = {tp.partition: (consumer.position(tp), ends[tp]) for tp in partitions}
            raise TimeoutError(f"{topic} not read to its end in {timeout_s}s: {behind}")
        return out
    finally:
        consumer.close()
