"""Helpers shared by the benchmark stages: a private topic namespace and timing."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from kafka.admin import KafkaAdminClient

from openbeat.paths import TOPICS_FILE
from openbeat.runtime.admin import apply_topics
from openbeat.runtime.topics import TopicNames, load_topics


@contextmanager
def bench_namespace(bootstrap: str) -> Iterator[TopicNames]:
    """Fresh topics for one stage, deleted afterwards so runs do not pile up data."""
    names = TopicNames(f"bench-{uuid.uuid4().hex[:8]}")
    specs = load_topics(TOPICS_FILE, names)
    apply_topics(bootstrap, specs)
    try:
        yield names
    finally:
        admin = KafkaAdminClient(bootstrap_servers=bootstrap.split(","), client_id="openbeat-bench")
        try:
            admin.delete_topics([s.name for s in specs])
        finally:
            admin.close()


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = fn()
    return time.perf_counter() - started, result


def best_of(runs: int, fn: Callable[[], float]) -> float:
    """The fastest of several runs: on a shared, noisy machine the minimum is the stable figure."""
    return min(fn() for _ in range(runs))
