"""The anonymizer's memory of the newest revision it published per source event.

"A lower or equal revision is ignored" must survive restarts and rebalances, so the state lives
in a compacted changelog topic written in the same transaction as the output (the Kafka Streams
pattern): changelog partition p holds the state of raw partition p, only the owner of raw
partition p writes it, and on assignment the owner restores it before processing.
Changes made during a transaction stay pending until the loop reports the commit.

Each entry also says whether any revision of the event so far was public (`was_public`): a
withdrawal marker is sent only for such events, so nothing is published about an id that was
never public (privacy.withdrawal). Entries are packed ints, `revision << 1 | was_public`; the
changelog value is "<revision>:<0|1>". A bare "<revision>" (written before was_public existed)
reads as was_public, so an event published then still gets its marker.
"""

from __future__ import annotations

import logging
from typing import Any

from kafka import TopicPartition

from openbeat.runtime.clients import make_consumer

logger = logging.getLogger(__name__)


Slot = tuple[str, int]
"""A raw topic partition, as (kind, partition): the unit of ownership of revision state."""


def pack(revision: int, was_public: bool) -> int:
    return (revision << 1) | int(was_public)


def unpack(packed: int) -> tuple[int, bool]:
    """(revision, was_public) of a packed entry."""
    return packed >> 1, bool(packed & 1)


def changelog_value(revision: int, was_public: bool) -> bytes:
    return f"{revision}:{int(was_public)}".encode()


def parse_changelog_value(value: bytes) -> int:
    """A changelog value as a packed entry; a legacy bare revision counts as was_public."""
    text = value.decode()
    revision, _, flag = text.partition(":")
    return pack(int(revision), flag != "0")


class RevisionState:
    """Newest revision per (slot, event key) and whether the event was ever public, with
    transaction-scoped pending changes. Entries are packed (see `pack`)."""

    def __init__(self) -> None:
        self._committed: dict[Slot, dict[str, int]] = {}
        self._pending: dict[Slot, dict[str, int]] = {}

    def _entry(self, partition: Slot, key: str) -> int | None:
        pending = self._pending.get(partition)
        if pending is not None and key in pending:
            return pending[key]
        return self._committed.get(partition, {}).get(key)

    def current(self, partition: Slot, key: str) -> int | None:
        """The newest revision seen for the event, or None."""
        entry = self._entry(partition, key)
        return None if entry is None else unpack(entry)[0]

    def was_public(self, partition: Slot, key: str) -> bool:
        """True when some accepted revision of the event was public."""
        entry = self._entry(partition, key)
        return entry is not None and unpack(entry)[1]

    def accept(self, partition: Slot, key: str, revision: int, public: bool = False) -> bool:
        """Record `revision` if it is newer than what was published; False means ignore it.
        `public`: this revision is public, so the event was public from now on."""
        seen = self.current(partition, key)
        if seen is not None and revision <= seen:
            return False
        was = self.was_public(partition, key) or public
        self._pending.setdefault(partition, {})[key] = pack(revision, was)
        return True

    def commit(self) -> None:
        for partition, changes in self._pending.items():
            self._committed.setdefault(partition, {}).update(changes)
        self._pending.clear()

    def abort(self) -> None:
        self._pending.clear()

    def drop(self, partition: Slot) -> None:
        self._committed.pop(partition, None)
        self._pending.pop(partition, None)

    def load(self, partition: Slot, entries: dict[str, int]) -> None:
        """Committed entries of a slot, packed (as `restore_partition` returns them)."""
        self._committed[partition] = entries

    def loaded(self, partition: Slot) -> bool:
        return partition in self._committed


def restore_partition(bootstrap: str, topic: str, partition: int) -> dict[str, int]:
    """Read one changelog partition to its committed end; the newest value per key wins."""
    consumer = make_consumer(bootstrap, client_id="openbeat-anonymizer-restore", group_id=None)
    tp = TopicPartition(topic, partition)
    entries: dict[str, int] = {}
    try:
        consumer.assign([tp])
        consumer.seek_to_beginning(tp)
        end = consumer.end_offsets([tp])[tp]
        while consumer.position(tp) < end:
            batch: dict[Any, list[Any]] = consumer.poll(timeout_ms=500, max_records=10_000)
            for messages in batch.values():
                for message in messages:
                    if message.key is None or message.value is None:
                        continue
                    entries[message.key.decode()] = parse_changelog_value(message.value)
    finally:
        consumer.close(autocommit=False)
    logger.info("restored %d revisions from %s[%d]", len(entries), topic, partition)
    return entries
