"""Staged parts: public-topic records the publisher has consumed, kept in the store until a release.

Each part is one Avro container file whose key comes from topic, partition and the offset range
it holds (`staging/<source>/<topic>/<partition>/<first:020d>-<last:020d>.avro`), the way Kafka
Connect's S3 sink names its objects. A replay after a crash rewrites the same key with the same
bytes (the sync marker is derived from the key, no wall-clock value is stored), and a replay with
different batch boundaries produces overlapping parts that `read_staged` reads each offset of once.
Every record carries its offset, so the publisher can commit offsets after `stage_part` returns.
"""

from __future__ import annotations

import hashlib
import heapq
import io
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import fastavro

from openbeat.paths import SCHEMAS_DIR
from openbeat.store.base import ObjectStore

logger = logging.getLogger(__name__)

STAGING_PREFIX = "staging/"
# The public schema each source's records are staged with (the newest). Parts staged with an
# older version are read into the newest one (Avro resolution fills the new fields' defaults).
SOURCE_SCHEMAS: dict[str, str] = {
    "incidents": "incident.v2.avsc",
    "reports": "report.v1.avsc",
    "engagements": "engagement.v1.avsc",
}
# Kafka's own rule for topic names, which also keeps them safe as key segments.
_TOPIC = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,248}$")
_PART_NAME = re.compile(r"^(\d{20})-(\d{20})\.avro$")


class StagingError(ValueError):
    """A part that cannot be staged: bad topic, partition or offsets."""


@dataclass(frozen=True)
class StagedRecord:
    topic: str
    partition: int
    offset: int
    record: dict[str, Any]


@dataclass(frozen=True)
class PartRef:
    key: str
    topic: str
    partition: int
    first_offset: int
    last_offset: int


@cache
def _wrapper_schema(source: str) -> Any:
    if source not in SOURCE_SCHEMAS:
        raise StagingError(f"unknown source {source!r}; known: {', '.join(sorted(SOURCE_SCHEMAS))}")
    public = json.loads((SCHEMAS_DIR / "public" / SOURCE_SCHEMAS[source]).read_text("utf-8"))
    return fastavro.parse_schema(
        {
            "type": "record",
            "name": "StagedRecord",
            "namespace": "openbeat.staging",
            "fields": [{"name": "offset", "type": "long"}, {"name": "record", "type": public}],
        }
    )


def part_key(source: str, topic: str, partition: int, first_offset: int, last_offset: int) -> str:
    """The deterministic key of a part holding offsets first..last (inclusive)."""
    if source not in SOURCE_SCHEMAS:
        raise StagingError(f"unknown source {source!r}")
    if not _TOPIC.match(topic) or topic.startswith("."):
        raise StagingError(f"topic name {topic!r} is not a valid Kafka topic name")
    if partition < 0 or first_offset < 0 or last_offset < first_offset:
        raise StagingError(f"bad part {topic}[{partition}] offsets {first_offset}..{last_offset}")
    return (
        f"{STAGING_PREFIX}{source}/{topic}/{partition}/{first_offset:020d}-{last_offset:020d}.avro"
    )


def stage_part(
    store: ObjectStore,
    dataset_source: str,
    topic: str,
    partition: int,
    start_offset: int,
    end_offset: int,
    records: Iterable[tuple[int, Mapping[str, Any]]],
) -> str:
    """Write one part of `(offset, public record)` pairs; offsets lie in start..end inclusive.

    Returns the key. Idempotent: the same input gives the same key and bytes, so a replay
    overwrites instead of duplicating. Durable when it returns (the store's put is).
    """
    key = part_key(dataset_source, topic, partition, start_offset, end_offset)
    items = []
    for offset, record in records:
        if not start_offset <= offset <= end_offset:
            raise StagingError(f"offset {offset} outside part {start_offset}..{end_offset}")
        items.append({"offset": offset, "record": dict(record)})
    buf = io.BytesIO()
    fastavro.writer(
        buf,
        _wrapper_schema(dataset_source),
        items,
        codec="deflate",
        # A fixed marker per key (not random) makes a replayed part byte-identical.
        sync_marker=hashlib.sha256(key.encode()).digest()[:16],
        metadata={
            "openbeat.topic": topic,
            "openbeat.partition": str(partition),
            "openbeat.first_offset": str(start_offset),
            "openbeat.last_offset": str(end_offset),
        },
    )
    store.put(key, buf.getvalue(), "application/avro")
    logger.debug("staged %d records of %s[%d] as %s", len(items), topic, partition, key)
    return key


def list_parts(store: ObjectStore, dataset_source: str) -> list[PartRef]:
    """Every staged part of a source, ordered by topic, partition and first offset."""
    part_key(dataset_source, "x", 0, 0, 0)  # validates the source name
    parts = []
    for key in store.list(f"{STAGING_PREFIX}{dataset_source}/"):
        pieces = key.split("/")
        match = _PART_NAME.match(pieces[-1])
        if len(pieces) != 5 or not match or not pieces[3].isdigit():
            logger.warning("ignoring unexpected staging object %s", key)
            continue
        parts.append(
            PartRef(key, pieces[2], int(pieces[3]), int(match.group(1)), int(match.group(2)))
        )
    parts.sort(key=lambda p: (p.topic, p.partition, p.first_offset, p.last_offset))
    return parts


@cache
def _written_schema(source: str) -> str:
    """The schema text `stage_part` writes into a part's header for `source` today."""
    buf = io.BytesIO()
    fastavro.writer(buf, _wrapper_schema(source), [])
    buf.seek(0)
    return str(fastavro.reader(buf).metadata["avro.schema"])


def read_part(store: ObjectStore, part: PartRef) -> Iterator[StagedRecord]:
    """The records of one part, in offset order, in the newest public schema.

    A part written with today's schema is read with it as is; only an older part goes through
    Avro schema resolution, which doubles the cost of reading (and reading staged parts back is
    most of a release's time).
    """
    source = part.key[len(STAGING_PREFIX) :].split("/", 1)[0]
    data = store.get(part.key)
    reader = fastavro.reader(io.BytesIO(data))
    if source in SOURCE_SCHEMAS and reader.metadata.get("avro.schema") != _written_schema(source):
        reader = fastavro.reader(io.BytesIO(data), reader_schema=_wrapper_schema(source))
    topic, partition = part.topic, part.partition
    for item in reader:
        assert isinstance(item, dict)
        yield StagedRecord(topic, partition, item["offset"], item["record"])


def read_staged(store: ObjectStore, dataset_source: str) -> Iterator[StagedRecord]:
    """Every staged record once per (topic, partition, offset), in offset order per partition,
    even where parts overlap.

    A part's name gives the range its records lie in, not that it holds every offset of it
    (transaction markers and aborted records leave gaps, and a part staged across a rebalance
    could skip records another copy staged meanwhile), so no part is ever taken as covering
    another: the parts of a partition are merged by offset, and an offset read twice is
    yielded once. Only parts whose ranges overlap are open at once; a part no other part
    overlaps is streamed as it is.
    """
    parts = list_parts(store, dataset_source)
    start = 0
    while start < len(parts):
        end = start
        tp = (parts[start].topic, parts[start].partition)
        while end < len(parts) and (parts[end].topic, parts[end].partition) == tp:
            end += 1
        yield from _merged(store, parts[start:end])
        start = end


def _merged(store: ObjectStore, parts: list[PartRef]) -> Iterator[StagedRecord]:
    """The records of one partition's parts (sorted by first offset), by offset, each once."""
    heap: list[tuple[int, int, StagedRecord, Iterator[StagedRecord]]] = []
    opened = 0
    last = -1
    while opened < len(parts) or heap:
        # Open every part that may hold the smallest offset not yet read: an unopened part
        # starts after the top of the heap, so all its records come later.
        while opened < len(parts) and (not heap or parts[opened].first_offset <= heap[0][0]):
            records = read_part(store, parts[opened])
            first = next(records, None)
            if first is not None:
                heapq.heappush(heap, (first.offset, opened, first, records))
            opened += 1
        if not heap:
            continue
        offset, seq, staged, records = heapq.heappop(heap)
        if offset > last:
            last = offset
            yield staged
        if not heap and (
            opened == len(parts) or parts[opened].first_offset > parts[seq].last_offset
        ):
            # Nothing else overlaps the rest of this part: stream it (the common case).
            for staged in records:
                last = staged.offset
                yield staged
            continue
        following = next(records, None)
        if following is not None:
            heapq.heappush(heap, (following.offset, seq, following, records))


def staged_offsets(store: ObjectStore, dataset_source: str) -> dict[str, dict[str, int]]:
    """The highest staged offset per topic and partition, for the manifest's source offsets."""
    offsets: dict[str, dict[str, int]] = {}
    for part in list_parts(store, dataset_source):
        per_topic = offsets.setdefault(part.topic, {})
        per_topic[str(part.partition)] = max(
            per_topic.get(str(part.partition), -1), part.last_offset
        )
    return offsets
