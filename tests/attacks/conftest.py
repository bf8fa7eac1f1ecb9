"""One adversary's scenario per test session for every attack (a real broker and store)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from scenario import (
    KEY,
    Scenario,
    cut,
    public_files,
    read_topic,
    round_one,
    round_two,
    run_pipeline,
    send,
)


@pytest.fixture(scope="package")
def scenario(kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scenario]:
    from kafka.admin import KafkaAdminClient

    from openbeat.paths import TOPICS_FILE
    from openbeat.runtime.admin import apply_topics
    from openbeat.runtime.topics import TopicNames, load_topics

    names = TopicNames(f"atk-{uuid.uuid4().hex[:10]}")
    specs = load_topics(TOPICS_FILE, names)
    apply_topics(kafka_bootstrap, specs)
    root = tmp_path_factory.mktemp("attack") / "store"
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBEAT_")}
    env.update(
        {
            "OPENBEAT_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "OPENBEAT_TOPIC_NAMESPACE": names.namespace,
            "OPENBEAT_STORE": str(root),
            "OPENBEAT_PSEUDONYM_KEY": KEY,
            "OPENBEAT_RELEASE_INTERVAL_S": "0",
        }
    )
    try:
        send(env, names, round_one())
        run_pipeline(env)
        first = cut(env, root)
        send(env, names, round_two())
        run_pipeline(env)
        second = cut(env, root)
        messages = [
            m
            for kind in ("incident", "report", "engagement")
            for m in read_topic(kafka_bootstrap, names.public(kind))
        ]
        yield Scenario(env, Path(root), names, first, second, public_files(root), messages)
    finally:
        admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap, client_id="openbeat-tests")
        try:
            admin.delete_topics([s.name for s in specs])
        except Exception:  # best effort, as for every test's topics
            pass
        finally:
            admin.close()
