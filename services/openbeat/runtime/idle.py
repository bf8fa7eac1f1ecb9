"""When an `--until-idle` run is done, and when it must say it could not even start.

A batch run (`openbeat run --until-idle`) ends once every input partition is consumed to its
end. A run that never got a partition assigned has consumed nothing: ending it with exit 0 would
tell the operator the data was processed when it was not (a rerun once consumed 24,950 records
after such a "success"). It raises `NoPartitionsAssigned` instead, naming the group, the topics
and the likely cause; the CLI turns it into one line and a non-zero exit.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence

from kafka import KafkaConsumer, TopicPartition

from openbeat.runtime.membership import membership_state

logger = logging.getLogger(__name__)

# The default of OPENBEAT_ASSIGNMENT_TIMEOUT_S. 180 s: a group whose earlier members were
# SIGKILLed waits out their sessions, and a loaded machine joins slowly; 60 s gave up on runs
# that would have consumed everything.
DEFAULT_ASSIGNMENT_TIMEOUT_S = 180.0


class NoPartitionsAssigned(RuntimeError):
    """An `--until-idle` run got no input partition within the assignment timeout."""


def idle(
    consumer: KafkaConsumer,
    topics: Sequence[str],
    started: float,
    assignment_timeout_s: float,
    group: str = "",
) -> bool:
    """Every input partition we own is consumed to its (committed) end.

    Raises NoPartitionsAssigned when nothing was assigned `assignment_timeout_s` after
    `started` (a time.monotonic() value).
    """
    assigned = consumer.assignment()
    if not assigned:
        if time.monotonic() - started > assignment_timeout_s:
            raise NoPartitionsAssigned(
                why_unassigned(consumer, topics, assignment_timeout_s, group)
            )
        return False
    wanted: set[TopicPartition] = set()
    for topic in topics:
        for p in consumer.partitions_for_topic(topic) or ():
            wanted.add(TopicPartition(topic, p))
    ends = consumer.end_offsets(list(wanted))
    for tp in wanted:
        if tp in assigned:
            if consumer.position(tp) < ends.get(tp, 0):
                return False
        else:
            # Owned by another copy, or still held by a crashed one until its session ends:
            # done only when the group's committed offset has reached the end.
            committed = consumer.committed(tp)
            if (committed or 0) < ends.get(tp, 0):
                return False
    return True


def why_unassigned(
    consumer: KafkaConsumer, topics: Sequence[str], timeout_s: float, group: str
) -> str:
    """The sentence for NoPartitionsAssigned: missing topics when that is the cause."""
    try:
        missing = [t for t in topics if not consumer.partitions_for_topic(t)]
    except Exception:  # the broker itself may be the cause; say what we know
        missing = []
    who = f"consumer group {group}" if group else "the consumer group"
    if missing:
        return (
            f"{who} got no partitions after {timeout_s:.0f}s: topic(s) {', '.join(missing)} "
            "do not exist; create them with `openbeat topics apply` (and check "
            "OPENBEAT_TOPIC_NAMESPACE)"
        )
    return (
        f"{who} got no partitions of {', '.join(topics)} after {timeout_s:.0f}s; nothing was "
        "consumed. Another copy may hold them all (stop it, or run fewer copies than "
        "partitions), or the broker is slow to assign: raise OPENBEAT_ASSIGNMENT_TIMEOUT_S "
        f"({membership_state(consumer)})"
    )
