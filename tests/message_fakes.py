"""A stand-in for kafka-python's ConsumerRecord, for testing processors without a broker."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FakeMessage:
    """The fields of a ConsumerRecord that processors read."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)
