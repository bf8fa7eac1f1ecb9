"""The emitter's Kafka shell: encode records and send them to the raw topics, losing nothing.

Every send is tracked: the summary counts what the broker acknowledged, and any failed send makes
the command exit non-zero (a silently dropped event is the one failure an agency cannot see).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from kafka import KafkaProducer

from openbeat.contracts.codec import KIND_SCHEMAS, SchemaStore
from openbeat.runtime.topics import TopicNames

logger = logging.getLogger(__name__)

ID_FIELDS = {"incident": "incident_id", "report": "report_id", "engagement": "engagement_id"}


def event_key(kind: str, record: dict[str, Any]) -> bytes:
    """The raw topics' key (SPEC 2): `agency_id:<kind>_id`, so revisions share a partition."""
    return f"{record['agency_id']}:{record[ID_FIELDS[kind]]}".encode()


@dataclass
class SendTally:
    """What happened to the sends, filled in by producer callbacks."""

    acknowledged: Counter[str] = field(default_factory=Counter)
    failed: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)

    @property
    def total_failed(self) -> int:
        return sum(self.failed.values())


class RawSender:
    """Encodes records with the current schema and sends them keyed to their raw topic."""

    def __init__(
        self, producer: KafkaProducer, schemas: SchemaStore, names: TopicNames | None = None
    ) -> None:
        self.producer = producer
        self.names = names or TopicNames()
        self.schemas = schemas
        self.tally = SendTally()

    def send(self, kind: str, record: dict[str, Any]) -> None:
        value = self.schemas.encode(KIND_SCHEMAS[kind], record)
        self.send_bytes(kind, event_key(kind, record), value)

    def send_bytes(self, kind: str, key: bytes, value: bytes, headers: Any = None) -> None:
        future = self.producer.send(
            self.names.raw(kind), value=value, key=key, headers=headers or []
        )
        future.add_callback(self._ok, kind)
        future.add_errback(self._failed, kind)

    def _ok(self, kind: str, _metadata: Any) -> None:
        self.tally.acknowledged[kind] += 1

    def _failed(self, kind: str, exc: BaseException) -> None:
        self.tally.failed[kind] += 1
        if len(self.tally.errors) < 20:
            self.tally.errors.append(f"{kind}: {exc}")

    def flush(self, timeout: float | None = 60) -> None:
        self.producer.flush(timeout=timeout)
