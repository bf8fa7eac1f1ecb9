"""The anonymizer's memory of the newest revision it published per source event.

"A lower or equal revision is ignored" must survive restarts and rebalances, so the state lives
in a compacted changelog topic written in the same transaction as the output (the Kafka Streams
pattern): changelog partition p holds the state of raw partition p, only the owner of raw
partition p writes it, and on assignment the owner restores it before processing.
Changes made during a transaction stay pending until the loop reports the commit.

Each entry also says whether any revision of the event so far was public (`was_public`): a
withdrawal marker is sent only for such events, so nothing is published about an id that was
never public (privacy.withdrawal). Entries are packed ints, `revision << 1 | was_public`; an
entry's value is "<revision>:<0|1>". A bare "<revision>" (written before was_public existed)
reads as was_public, so an event published then still gets its marker.

**One changelog message per transaction and partition, not per event** (issue 13): sending was
most of the service's time, and a per-event entry doubled the sends. A *batch* message (key
`batch|<digest of the value>`) carries every state change of the transaction for that partition
as a JSON object `{"<event key>": "<revision>:<0|1>", ...}` (split across messages past
BATCH_BYTES). Its key is a digest of its value, so compaction only ever drops a batch for an
identical later one, and a batch is never lost to another's key. Older deployments wrote one
message per event (key = the event key); both kinds are read on restore. Restore keeps, per
event, the greatest packed entry rather than the last one read: entries only ever grow (a newer
revision; was_public never goes back), so the result does not depend on the order compaction
leaves, and the topic stays one truth whatever mix of both kinds it holds.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from typing import Any

from kafka import TopicPartition

from openbeat.runtime.clients import make_consumer
from openbeat.runtime.loop import Out

logger = logging.getLogger(__name__)

# The key prefix of batch changelog messages. Event keys start with their kind ("incident|"),
# never with "batch|".
BATCH_PREFIX = "batch|"
# Past about this many bytes of keys and values a batch is split: far below the broker's and
# the producer's 1 MiB message limits whatever the batch size.
BATCH_BYTES = 256 * 1024

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
    return _parse_entry(value.decode())


def _parse_entry(text: str) -> int:
    revision, _, flag = text.partition(":")
    return pack(int(revision), flag != "0")


def _entry_text(packed: int) -> str:
    return f"{packed >> 1}:{packed & 1}"


class RevisionState:
    """Newest revision per (slot, event key) and whether the event was ever public, with
    transaction-scoped pending changes. Entries are packed (see `pack`)."""

    def __init__(self) -> None:
        self._committed: dict[Slot, dict[str, int]] = {}
        self._pending: dict[Slot, dict[str, int]] = {}

    def entry(self, partition: Slot, key: str) -> int | None:
        """The event's packed entry (pending, else committed), or None."""
        pending = self._pending.get(partition)
        if pending is not None:
            found = pending.get(key, -1)
            if found >= 0:
                return found
        committed = self._committed.get(partition)
        return None if committed is None else committed.get(key)

    def put(self, partition: Slot, key: str, packed: int) -> None:
        """Record a packed entry the caller checked is newer (`accept` checks it itself)."""
        pending = self._pending.get(partition)
        if pending is None:
            pending = self._pending[partition] = {}
        pending[key] = packed

    def current(self, partition: Slot, key: str) -> int | None:
        """The newest revision seen for the event, or None."""
        entry = self.entry(partition, key)
        return None if entry is None else unpack(entry)[0]

    def was_public(self, partition: Slot, key: str) -> bool:
        """True when some accepted revision of the event was public."""
        entry = self.entry(partition, key)
        return entry is not None and unpack(entry)[1]

    def accept(self, partition: Slot, key: str, revision: int, public: bool = False) -> bool:
        """Record `revision` if it is newer than what was published; False means ignore it.
        `public`: this revision is public, so the event was public from now on."""
        seen = self.current(partition, key)
        if seen is not None and revision <= seen:
            return False
        self.put(partition, key, pack(revision, self.was_public(partition, key) or public))
        return True

    def changelog(self, topic: str) -> list[Out]:
        """The batch messages recording every pending change (sent in the same transaction)."""
        by_partition: dict[int, dict[str, int]] = {}
        for (_, partition), changes in self._pending.items():
            by_partition.setdefault(partition, {}).update(changes)
        return [
            out
            for partition, changes in sorted(by_partition.items())
            for out in batch_messages(topic, partition, changes)
        ]

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


def batch_messages(topic: str, partition: int, changes: Mapping[str, int]) -> list[Out]:
    """Changelog batch messages for `changes` (event key -> packed entry) of one partition."""
    outs: list[Out] = []
    part: dict[str, str] = {}
    size = 0
    for key, packed in changes.items():
        part[key] = text = _entry_text(packed)
        size += len(key) + len(text) + 6
        if size >= BATCH_BYTES:
            outs.append(_batch_message(topic, partition, part))
            part, size = {}, 0
    if part:
        outs.append(_batch_message(topic, partition, part))
    return outs


def _batch_message(topic: str, partition: int, part: dict[str, str]) -> Out:
    value = json.dumps(part, ensure_ascii=False, separators=(",", ":")).encode()
    key = (BATCH_PREFIX + hashlib.blake2b(value, digest_size=16).hexdigest()).encode()
    return Out(topic=topic, value=value, key=key, partition=partition)


def merge_message(entries: dict[str, int], key: bytes, value: bytes) -> None:
    """Fold one changelog message (a batch, or a legacy per-event entry) into `entries`,
    keeping the greatest entry per event (see the module docstring)."""
    text = key.decode()
    if text.startswith(BATCH_PREFIX):
        items: list[tuple[str, int]] = [(k, _parse_entry(v)) for k, v in json.loads(value).items()]
    else:
        items = [(text, parse_changelog_value(value))]
    for event, packed in items:
        if packed > entries.get(event, -1):
            entries[event] = packed


def restore_partition(bootstrap: str, topic: str, partition: int) -> dict[str, int]:
    """Read one changelog partition to its committed end: the greatest entry per event."""
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
                    merge_message(entries, message.key, message.value)
    finally:
        consumer.close(autocommit=False)
    logger.info("restored %d revisions from %s[%d]", len(entries), topic, partition)
    return entries
