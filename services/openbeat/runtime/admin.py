"""Broker administration shell: reads topic state and applies a `TopicPlan`."""

from __future__ import annotations

import logging
import time

from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from openbeat.runtime.clients import BOOTSTRAP_TIMEOUT_MS
from openbeat.runtime.topics import ExistingTopic, TopicPlan, TopicSpec, plan_topics

logger = logging.getLogger(__name__)


def describe_existing(
    admin: KafkaAdminClient, declared: list[TopicSpec]
) -> dict[str, ExistingTopic]:
    """Partition counts and declared config keys of the declared topics that exist."""
    names = set(admin.list_topics())
    present = [spec for spec in declared if spec.name in names]
    if not present:
        return {}
    partitions = {
        meta["name"]: len(meta["partitions"])
        for meta in admin.describe_topics([s.name for s in present])
    }
    described = admin.describe_configs(
        [ConfigResource(ConfigResourceType.TOPIC, s.name) for s in present]
    )
    # kafka-python 3 answers {"topic": {name: {config: {"value": ..., ...}}}}.
    configs: dict[str, dict[str, str]] = {
        name: {key: str(entry.get("value")) for key, entry in entries.items()}
        for name, entries in described.get("topic", {}).items()
    }
    return {
        s.name: ExistingTopic(s.name, partitions.get(s.name, 0), configs.get(s.name, {}))
        for s in present
    }


def _wait_visible(admin: KafkaAdminClient, names: set[str], timeout_s: float = 15.0) -> None:
    """Creation returns before every broker's metadata has the topics; wait until it does, so
    the next command (or a second `apply`) sees them."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if names <= set(admin.list_topics()):
            return
        time.sleep(0.1)
    logger.warning("created topics not yet visible after %.0fs: %s", timeout_s, sorted(names))


def apply_topics(bootstrap: str, declared: list[TopicSpec]) -> TopicPlan:
    """Create the missing topics; return the plan (created, unchanged, drift) for reporting."""
    admin = KafkaAdminClient(
        bootstrap_servers=bootstrap.split(","),
        client_id="openbeat-topics",
        bootstrap_timeout_ms=BOOTSTRAP_TIMEOUT_MS,
    )
    try:
        plan = plan_topics(declared, describe_existing(admin, declared))
        if plan.create:
            new = [
                NewTopic(
                    s.name,
                    num_partitions=s.partitions,
                    replication_factor=s.replication_factor,
                    topic_configs=dict(s.config),
                )
                for s in plan.create
            ]
            try:
                admin.create_topics(new)
            except TopicAlreadyExistsError:
                # Another instance created them between our look and our request: same outcome.
                logger.info("topics were created concurrently")
            _wait_visible(admin, {s.name for s in plan.create})
        for spec in plan.create:
            logger.info("created topic %s (%d partitions)", spec.name, spec.partitions)
        for line in plan.drift:
            logger.warning("topic drift: %s", line)
        return plan
    finally:
        admin.close()
