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

A busy loop can be just as silent: kafka-python's transaction commit and a consumer's offset
commit wait without a bound, retrying until the broker is back. `BrokerWaits` says so, once a
call has waited `STALL_NOTICE_S`, in the same words and with `/healthz` unhealthy until the call
returns; the call itself is left alone (when the broker returns it completes, or fails and the
supervisor restarts the loop).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager

from kafka import KafkaConsumer, TopicPartition
from kafka.errors import KafkaError

from openbeat.runtime.errors import describe_fault
from openbeat.runtime.health import HEALTH

logger = logging.getLogger(__name__)

# How long a loop may poll nothing before it checks the broker is still there. 10 s: a drained
# service learns of an outage within ~20 s (this plus the probe's wait), and a healthy idle one
# sends one small request per 10 s.
PROBE_EVERY_S = 10.0
# How long the probe waits for its answer: a loaded broker answers ListOffsets in milliseconds,
# one that is down never does.
PROBE_TIMEOUT_S = 10.0
# How long a commit may wait before the operator hears of it: a healthy broker answers in
# milliseconds, a loaded one within a second or two; 10 s matches the idle probe's bound.
STALL_NOTICE_S = 10.0


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


class BrokerWaits:
    """Says when a blocking broker call of one service has waited too long (module docstring).

    One watcher thread per loop, started at the first wait, looks at the call in progress every
    `tick_s`; a call that returns in time costs two lock round trips and says nothing.
    """

    def __init__(
        self,
        service: str,
        bootstrap: str,
        *,
        after_s: float = STALL_NOTICE_S,
        tick_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.service = service
        self.bootstrap = bootstrap
        self.after_s = after_s
        self.tick_s = tick_s
        self.clock = clock
        self._lock = threading.Lock()
        self._what: str | None = None
        self._since = 0.0
        self._said = False
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None
        self._key = f"broker-wait:{service}"

    @contextmanager
    def waiting(self, what: str) -> Iterator[None]:
        """The block is one blocking call, `what` in the operator's words ("committing ...")."""
        with self._lock:
            self._what, self._since, self._said = what, self.clock(), False
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._watch, name=f"broker-waits-{self.service}", daemon=True
            )
            self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                said, waited = self._said, self.clock() - self._since
                self._what, self._said = None, False
            if said:
                HEALTH.end(self._key)
                logger.info(
                    "service %s: Kafka answered again after %.0f s of %s",
                    self.service,
                    waited,
                    what,
                )

    def close(self) -> None:
        self._closed.set()

    def _watch(self) -> None:
        while not self._closed.wait(self.tick_s):
            with self._lock:
                what, waited = self._what, self.clock() - self._since
                late = what is not None and not self._said and waited >= self.after_s
                if late:
                    self._said = True
            if late:
                why = describe_fault(
                    BrokerSilent(f"no answer for {waited:.0f} s while {what}"), self.bootstrap
                )
                logger.warning("service %s: %s; still waiting", self.service, why)
                HEALTH.begin(self._key, f"service {self.service}: {why}")
