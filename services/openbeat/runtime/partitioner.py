"""kafka-python's default partitioner, remembering the partition of each key it has seen.

The default partitioner sorts the topic's partitions and runs a pure-Python murmur2 of the key on
every keyed send (a few microseconds each). Services on the transactional loop send a small set
of keys over and over (the anonymizer keys public records by district), so remembering the
answer per (topic, key, partition count) takes that off the sending thread. The choice is
exactly the default partitioner's (records land where any other producer would put them),
and a change in a topic's partition count is noticed on the next send.
"""

from __future__ import annotations

from typing import Any

from kafka.partitioner import DefaultPartitioner
from kafka.partitioner.default import murmur2

# Entries kept before the memory starts over: with unique keys (an event id per record) the
# memory never helps, and this bounds it to a few MB.
MAX_ENTRIES = 50_000


class CachingPartitioner(DefaultPartitioner):
    """The default partitioner with a memory of key to partition."""

    def __init__(self) -> None:
        self._memory: dict[tuple[str, bytes], tuple[int, int]] = {}

    def partition(
        self,
        topic: str,
        key: Any,
        serialized_key: bytes | None,
        value: Any,
        serialized_value: Any,
        cluster: Any,
    ) -> int:
        if serialized_key is None:
            return int(
                super().partition(topic, key, serialized_key, value, serialized_value, cluster)
            )
        partitions = cluster.partitions_for_topic(topic)
        if partitions is None:
            raise ValueError(f"Topic {topic} not found in ClusterMetadata")
        count = len(partitions)
        remembered = self._memory.get((topic, serialized_key))
        if remembered is not None and remembered[0] == count:
            return remembered[1]
        chosen = sorted(partitions)[(murmur2(serialized_key) & 0x7FFFFFFF) % count]
        if len(self._memory) >= MAX_ENTRIES:
            self._memory.clear()
        self._memory[(topic, serialized_key)] = (count, chosen)
        return int(chosen)
