"""Noticing a broker that went away while a loop had nothing to do.

A busy loop meets a dead broker at once: its sends, commits or transactions fail and the
supervisor (runtime.supervise) logs the fault and restarts it. An idle loop does not: kafka-python
reconnects quietly inside `poll`, which just keeps returning nothing, so a service whose input
was drained when the broker died would sit there, reporting healthy and saying nothing, for as
long as the outage lasts. The operator wants the opposite: one line naming the service and the
cause, and `/healthz` unhealthy.

So a loop that has polled nothing for `every_s` asks the broker one cheap question (the end
offset of one input partition, a ListOffsets request) with a bounded wait. No answer raises
`BrokerSilent`, a KafkaError, which the supervisor treats like any other broker fault; a loop
that keeps receiving records never asks.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

logger = logging.getLogger(__name__)

# How long a loop may poll nothing before it checks the broker is still there. 10 s: a drained
# service learns of an outage within ~20 s (this plus the probe's wait), and a healthy idle one
# sends one small request per 10 s.
PROBE_EVERY_S = 10.0
# How long the probe waits for its answer: a loaded broker answers ListOffsets in milliseconds,
# one that is down never does.
PROBE_TIMEOUT_S = 10.0


class BrokerSilent(KafkaError):
    """The broker did not answer an idle loop's probe in time."""

    retriable = True


class BrokerWatch:
    """Probes the broker when its loop has polled nothing for `every_s` (module docstring)."""

    def __init__(
        self,
        consumer: KafkaConsumer,
        topics: Sequence[str],
        *,
        every_s: float = PROBE_EVERY_S,
        timeout_s: float = PROBE_TIMEOUT_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.consumer = consumer
        self.topics = list(topics)
        self.every_s = every_s
        self.timeout_s = timeout_s
        self.clock = clock
        self.last_heard = clock()

    def heard(self) -> None:
        """The loop just received records: the broker is there."""
        self.last_heard = self.clock()

    def check(self) -> None:
        """After an empty poll: probe when the loop has heard nothing for `every_s`."""
        if self.clock() - self.last_heard < self.every_s:
            return
        try:
            probe = self._probe_partition()
            if probe is not None:
                self.consumer.end_offsets([probe], timeout_ms=int(self.timeout_s * 1000))
        except KafkaError as exc:
            raise BrokerSilent(
                f"no answer within {self.timeout_s:.0f} s to an idle loop's request for an "
                f"end offset of {', '.join(self.topics)} ({type(exc).__name__})"
            ) from exc
        self.last_heard = self.clock()

    def _probe_partition(self) -> TopicPartition | None:
        """A partition to ask about: one of ours, else any of the input topics'."""
        owned = sorted(self.consumer.assignment())
        if owned:
            return owned[0]
        for topic in self.topics:
            partitions = self.consumer.partitions_for_topic(topic)
            if partitions:
                return TopicPartition(topic, min(partitions))
        # No metadata yet: the loop is still starting, and the assignment timeout covers that.
        return None
