"""The publisher cuts releases off its polling thread (issue 10.2), against the real broker.

Reading every staged part back takes minutes on a large store; on the polling thread it would
outlast max.poll.interval.ms and stop staging. While a release runs, the loop keeps polling and
staging.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaProducer
from release_inputs import public_incident

from openbeat.contracts.codec import SchemaStore
from openbeat.pipeline.publisher import PublisherProcessor
from openbeat.releases import list_parts
from openbeat.runtime.lifecycle import StopFlag
from openbeat.runtime.sink_loop import SinkConfig, run_sink_loop
from openbeat.runtime.topics import TopicNames
from openbeat.store import LocalStore
from service_copies import in_thread, until

pytestmark = pytest.mark.integration


def test_a_release_runs_off_the_polling_thread_and_staging_goes_on(
    kafka_bootstrap: str, topic_names: Any, unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    names: TopicNames = topic_names
    schemas = SchemaStore.load()
    started, release_may_end = threading.Event(), threading.Event()
    release_threads: list[str] = []

    def release(cutoff: datetime) -> list[str]:
        release_threads.append(threading.current_thread().name)
        started.set()
        assert release_may_end.wait(60)
        return []

    private = LocalStore(tmp_path / "private", private=True)
    publisher = PublisherProcessor(
        names=names, schemas=schemas, private=private, release=release, release_interval_s=3600
    )
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)

    def send(first: int, count: int) -> None:
        for i in range(first, first + count):
            value = schemas.encode("openbeat.public.PublicIncident", public_incident(f"id{i}"))
            producer.send(names.public("incident"), value=value)
        producer.flush()

    group = unique_name("release-bg")
    config = SinkConfig(kafka_bootstrap, group, group, commit_interval_s=0.3)
    stop = StopFlag()
    thread, outcome = in_thread(lambda: run_sink_loop(publisher, config, stop), "polling-thread")
    try:
        send(0, 20)
        assert started.wait(60), outcome
        staged_before = publisher.staged
        # The release is still running: more input is staged meanwhile.
        send(20, 20)
        until(lambda: publisher.staged >= staged_before + 20, 60, "staged during the release")
        assert publisher.releasing
    finally:
        release_may_end.set()
        stop.set()
        thread.join(60)
        producer.close()
    assert "error" not in outcome, outcome.get("error")
    assert release_threads and release_threads[0] != "polling-thread"
    assert sum(1 for _ in list_parts(private, "incidents")) >= 2
