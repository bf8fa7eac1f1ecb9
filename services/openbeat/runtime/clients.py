"""Kafka client construction in one place, so every service uses the same tuned settings."""

from __future__ import annotations

import logging
from typing import Any

from kafka import KafkaConsumer, KafkaProducer

logger = logging.getLogger(__name__)

# A CLI user waiting on a broker that is not there should hear so within seconds, not 30.
BOOTSTRAP_TIMEOUT_MS = 10_000
# 8 MiB: raw and dead-letter topics accept oversized events (see infra/topics.toml) so that an
# event over the 1 MiB payload limit can still be dead-lettered with its bytes intact.
MAX_REQUEST_BYTES = 8 * 1024 * 1024


def make_producer(
    bootstrap: str,
    *,
    client_id: str,
    transactional_id: str | None = None,
    linger_ms: int = 20,
    batch_size: int = 256 * 1024,
    compression: str | None = None,
    **extra: Any,
) -> KafkaProducer:
    """An idempotent producer (acks=all); transactional when `transactional_id` is given."""
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap.split(","),
        "client_id": client_id,
        "bootstrap_timeout_ms": BOOTSTRAP_TIMEOUT_MS,
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": linger_ms,
        "batch_size": batch_size,
        "max_request_size": MAX_REQUEST_BYTES,
        "compression_type": compression,
    }
    if transactional_id:
        config["transactional_id"] = transactional_id
        # A crashed instance that never returns blocks read_committed readers until its
        # transaction times out; 30 s bounds that stall without tripping on slow batches.
        config["transaction_timeout_ms"] = 30_000
    config.update(extra)
    return KafkaProducer(**config)


def make_consumer(
    bootstrap: str,
    *,
    client_id: str,
    group_id: str | None,
    instance_id: str | None = None,
    **extra: Any,
) -> KafkaConsumer:
    """A read_committed consumer that never auto-commits: offsets go with the output.

    With `instance_id` it is a static group member (KIP-345): a copy restarted after a crash
    takes its partitions back at once instead of waiting for the dead member's session to end.
    """
    config: dict[str, Any] = {
        "bootstrap_servers": bootstrap.split(","),
        "client_id": client_id,
        "bootstrap_timeout_ms": BOOTSTRAP_TIMEOUT_MS,
        "group_id": group_id,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "isolation_level": "read_committed",
        "max_partition_fetch_bytes": MAX_REQUEST_BYTES,
        "fetch_max_bytes": 4 * MAX_REQUEST_BYTES,
    }
    if group_id and instance_id:
        config["group_instance_id"] = instance_id
        # A static member never says goodbye, so a copy that is gone for good keeps its
        # partitions until this times out: 10 s rather than the 45 s default.
        config["session_timeout_ms"] = 10_000
    config.update(extra)
    return KafkaConsumer(**config)
