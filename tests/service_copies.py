"""Copies of `openbeat run SERVICE` as real subprocesses, for rebalance and failover tests.

Each copy has its own OPENBEAT_INSTANCE_ID and writes its log to a file the test reads (which
copy holds a lease, when it took over). Nothing is faked: the copies talk to the test's broker
and stores like any deployment.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer, TopicPartition

REPO = Path(__file__).resolve().parent.parent


class Copy:
    """One running copy of a service."""

    def __init__(self, env: dict[str, str], service: str, instance: str, logs: Path) -> None:
        self.service = service
        self.instance = instance
        logs.mkdir(parents=True, exist_ok=True)
        self.log_path = logs / f"{service}-{instance}-{time.monotonic_ns()}.log"
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "openbeat.cli", "run", service],
            env={**env, "OPENBEAT_INSTANCE_ID": instance},
            cwd=REPO,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def log(self) -> str:
        return self.log_path.read_text("utf-8", errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no flush, no commit, no goodbye to the group."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._log.close()

    def stop(self, timeout: float = 120) -> int:
        """SIGTERM: the copy finishes its flush and exits."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGTERM)
        code = self.proc.wait(timeout=timeout)
        self._log.close()
        return code


def in_thread(target: Callable[[], Any], name: str) -> tuple[threading.Thread, dict[str, Any]]:
    """Run `target` in a thread named `name`: its result or error lands in the dict."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["result"] = target()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, name=name)
    thread.start()
    return thread, outcome


def until(condition: Callable[[], bool], timeout: float, what: str, step: float = 0.1) -> float:
    """Wait for `condition`; returns the seconds it took, fails the test after `timeout`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout, f"timed out after {timeout}s: {what}"
        time.sleep(step)
    return time.monotonic() - started


def group_caught_up(bootstrap: str, group: str, messages: list) -> bool:
    """True when the group committed past the last of `messages` (records read from its input
    topics) in every partition they are in: everything there was consumed and made durable.

    Compared with the last record rather than the end offset: a transactional topic ends with a
    commit marker, and a sink commits the offset after its last record."""
    wanted: dict[TopicPartition, int] = {}
    for m in messages:
        tp = TopicPartition(m.topic, m.partition)
        wanted[tp] = max(wanted.get(tp, 0), m.offset + 1)
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        return all((consumer.committed(tp) or 0) >= end for tp, end in wanted.items())
    finally:
        consumer.close(autocommit=False)


def read_topic(bootstrap: str, topic: str, timeout: float = 180.0) -> list:
    """Every committed message of `topic`, read to its end offsets; fails (never returns a part)
    when that takes longer than `timeout`, as it can on a loaded machine."""
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
        ends = consumer.end_offsets(partitions)
        out: list = []
        started = time.monotonic()
        while not all(consumer.position(tp) >= ends[tp] for tp in partitions):
            assert time.monotonic() - started < timeout, f"{topic} not read in {timeout}s"
            for messages in consumer.poll(timeout_ms=500).values():
                out.extend(messages)
        return out
    finally:
        consumer.close()
