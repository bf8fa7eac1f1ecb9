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

# S3 (moto server) fixtures live in their own module so store and release tests share them.
pytest_plugins = ["s3_fixtures"]

REPO_ROOT = Path(__file__).resolve().parent.parent
KAFKA_SCRIPT = REPO_ROOT / "infra" / "kafka.sh"
TEST_KAFKA_PORT = os.environ.get("OPENBEAT_TEST_KAFKA_PORT", "19092")
TEST_KAFKA_HOME = REPO_ROOT / "var" / "test-kafka"


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
def make_topic(kafka_bootstrap: str, unique_name: Callable[[str], str]) -> Iterator[Callable[..., str]]:
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
