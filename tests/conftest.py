"""Shared fixtures: one real Kafka broker per test session, and per-test topics and groups.

The broker is started through infra/kafka.sh on its own port and data folder (so a developer's
`make run` broker is left alone) and stopped at the end. Set OPENBEAT_TEST_KAFKA_BOOTSTRAP to use
an already running broker instead.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kafka_helpers import KAFKA_SCRIPT, TEST_KAFKA_HOME, TEST_KAFKA_PORT, consume_all

# S3 (moto server) fixtures live in their own module so store and release tests share them.
pytest_plugins = ["s3_fixtures"]


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    external = os.environ.get("OPENBEAT_TEST_KAFKA_BOOTSTRAP")
    if external:
        yield external
        return
    env = {
        **os.environ,
        "OPENBEAT_KAFKA_HOME": str(TEST_KAFKA_HOME),
        "OPENBEAT_KAFKA_PORT": TEST_KAFKA_PORT,
    }
    # Fresh data each session: topics from an earlier run would only slow listing down.
    subprocess.run([str(KAFKA_SCRIPT), "reset"], env=env, check=True)
    subprocess.run([str(KAFKA_SCRIPT), "start"], env=env, check=True)
    try:
        yield f"127.0.0.1:{TEST_KAFKA_PORT}"
    finally:
        subprocess.run([str(KAFKA_SCRIPT), "stop"], env=env, check=False)


@pytest.fixture
def unique_name() -> Callable[[str], str]:
    """Names no other test uses: topics, consumer groups, transactional ids."""

    def make(prefix: str) -> str:
        return f"{prefix}-{uuid.uuid4().hex[:10]}"

    return make


@pytest.fixture
def make_topic(
    kafka_bootstrap: str, unique_name: Callable[[str], str]
) -> Iterator[Callable[..., str]]:
    """Create a fresh topic for this test: make_topic("raw-incidents", partitions=3)."""
    from kafka.admin import KafkaAdminClient, NewTopic

    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap, client_id="openbeat-tests")

    def make(prefix: str = "t", partitions: int = 1) -> str:
        name = unique_name(prefix)
        admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
        return name

    try:
        yield make
    finally:
        admin.close()


@pytest.fixture
def topic_names(kafka_bootstrap: str, unique_name: Callable[[str], str]) -> Iterator[object]:
    """Every openbeat topic, created fresh in a namespace of this test's own, deleted after.

    Deleting matters: each namespace is 30 partitions, and a broker holding thousands of
    partitions runs out of file descriptors.
    """
    from kafka.admin import KafkaAdminClient

    from openbeat.paths import TOPICS_FILE
    from openbeat.runtime.admin import apply_topics
    from openbeat.runtime.topics import TopicNames, load_topics

    names = TopicNames(unique_name("t"))
    specs = load_topics(TOPICS_FILE, names)
    apply_topics(kafka_bootstrap, specs)
    yield names
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap, client_id="openbeat-tests")
    try:
        admin.delete_topics([s.name for s in specs])
    except Exception:  # cleanup is best effort: a failure here must not fail the test
        pass
    finally:
        admin.close()


@pytest.fixture
def openbeat_env(kafka_bootstrap: str, topic_names: object, tmp_path: Path) -> dict[str, str]:
    """Environment for running the `openbeat` CLI against this test's topics and its own public
    and private stores."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBEAT_")}
    env.update(
        {
            "OPENBEAT_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "OPENBEAT_TOPIC_NAMESPACE": topic_names.namespace,  # type: ignore[attr-defined]
            "OPENBEAT_STORE": str(tmp_path / "store"),
            "OPENBEAT_PRIVATE_STORE": str(tmp_path / "private"),
            "OPENBEAT_PSEUDONYM_KEY": "test-key-0123456789abcdef",
        }
    )
    return env


@pytest.fixture
def consume(kafka_bootstrap: str) -> Callable[..., list]:
    """consume(topic, expect=N): every committed message of a topic, read without a group."""

    def run(topic: str, *, timeout_s: float = 20.0, expect: int | None = None) -> list:
        return consume_all(kafka_bootstrap, topic, timeout_s=timeout_s, expect=expect)

    return run
