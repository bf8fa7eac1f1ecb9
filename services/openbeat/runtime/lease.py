"""Single writer with failover: a lease for the services whose state covers the whole city.

The aggregator and the alerter each keep one state for every partition and write one checkpoint
(and the alerter the feeds). Two copies writing at once would overwrite each other, so every
copy first takes the service's lease, and only the holder consumes and writes; the others wait
as standbys.

The lease is consumer-group assignment: the one-partition topic `<namespace>.state.leases`
(infra/topics.toml), consumed by every copy of a service in the group `<group>-lease`. The
copy assigned partition 0 holds the lease. The group uses the cooperative sticky assignor, so a
standby joining never takes the lease from a live holder (the holder is not even interrupted);
when the holder dies its session ends after `LEASE_SESSION_TIMEOUT_MS` and the coordinator gives
partition 0 to a standby. Members are static (the copy's instance id), so a crashed holder
restarted under the same id gets its lease back at once.

Assignment alone does not stop a holder that lost the lease without noticing (stalled, cut off
from the broker) from writing once it wakes up. Fencing closes that: every copy of a service
shares one transactional id, `<group>-writer`. A new holder calls `init_transactions()` before
it reads any state, which bumps the producer epoch and fences every older producer; `confirm()`,
called right before each write (feeds, checkpoint), commits a one-record transaction (the
holder's id, keyed by group, on the lease topic: also a record of who holds it), which a fenced
holder cannot do. It gets `LeaseLost` and stops writing. A write already past its `confirm()`
when the new holder starts can still land (an object store has no conditional put here); the
new holder's next checkpoint replaces it, since the new state is the old checkpoint plus a
replay from the committed offsets.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from kafka import KafkaProducer, TopicPartition
from kafka.consumer.subscription_state import ConsumerRebalanceListener
from kafka.coordinator.assignors.cooperative_sticky import CooperativeStickyAssignor
from kafka.errors import KafkaError, ProducerFencedError

from openbeat.runtime.clients import make_consumer, make_producer
from openbeat.runtime.idle import NoPartitionsAssigned, why_unassigned
from openbeat.runtime.lifecycle import StopFlag
from openbeat.runtime.membership import MembershipGuard

logger = logging.getLogger(__name__)

T = TypeVar("T")

# How long a dead holder keeps the lease: the broker's minimum session timeout (6 s by
# default). Heartbeats every second leave five missed ones before a live holder is expelled.
LEASE_SESSION_TIMEOUT_MS = 6_000
LEASE_HEARTBEAT_MS = 1_000
# The same for the input consumer of a lease holder, so that a standby that took over is not
# kept waiting for the dead holder's input partitions longer than for its lease.
SINGLE_WRITER_CONSUMER = {
    "session_timeout_ms": LEASE_SESSION_TIMEOUT_MS,
    "heartbeat_interval_ms": LEASE_HEARTBEAT_MS,
}
LEASE_PARTITION = 0


class LeaseLost(RuntimeError):
    """This copy no longer holds its service's lease: it must not write anything more."""


class Lease(ConsumerRebalanceListener):
    """One copy's hold on its service's lease (see the module docstring)."""

    def __init__(
        self, *, bootstrap: str, topic: str, group: str, client_id: str, instance_id: str
    ) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.group = group
        self.client_id = client_id
        self._held = threading.Event()
        # Set when a newer holder fenced us while the group still showed us as holder: we do
        # not fight back (init_transactions would fence it) until our hold has ended.
        self._fenced = False
        self._producer: KafkaProducer | None = None
        # When the current hold began (time.monotonic()), for the takeover log line.
        self.since: float | None = None
        self._consumer = make_consumer(
            bootstrap,
            client_id=client_id,
            group_id=group,
            instance_id=instance_id,
            partition_assignment_strategy=[CooperativeStickyAssignor],
            **SINGLE_WRITER_CONSUMER,
        )
        self._consumer.subscribe([topic], listener=self)
        self._guard = MembershipGuard(self._consumer, group, stuck_s=None)

    # -- listener (kafka-python's IO thread: only flips the flag) ----------------------------

    def on_partitions_assigned(self, assigned: Any) -> None:
        if TopicPartition(self.topic, LEASE_PARTITION) in set(assigned):
            self._held.set()

    def on_partitions_revoked(self, revoked: Any) -> None:
        if TopicPartition(self.topic, LEASE_PARTITION) in set(revoked):
            self._held.clear()
            self._fenced = False

    def on_partitions_lost(self, lost: Any) -> None:
        self.on_partitions_revoked(lost)

    # -- the polling thread -------------------------------------------------------------------

    @property
    def held(self) -> bool:
        return self._held.is_set()

    def acquire(self, stop: StopFlag, timeout_s: float | None = None) -> bool:
        """Wait as a standby until the lease is ours, then fence every earlier holder.

        False when stopped first, or (with `timeout_s`) when another copy kept it that long.
        """
        started = time.monotonic()
        announced = False
        while not stop.is_set():
            try:
                self._consumer.poll(timeout_ms=200)
                self._guard.check()
            except KafkaError as exc:  # the broker away: a standby just waits for it
                logger.warning("%s: waiting for Kafka to take the lease: %s", self.client_id, exc)
                stop.wait(1.0)
                continue
            if self._held.is_set() and not self._fenced:
                try:
                    self._fence_predecessors()
                    self.confirm()
                except LeaseLost:
                    continue
                self.since = time.monotonic()
                logger.info(
                    "%s holds the lease of %s (waited %.1fs): active",
                    self.client_id,
                    self.group,
                    self.since - started,
                )
                return True
            if not announced and time.monotonic() - started > 1:
                logger.info(
                    "%s: another copy holds the lease of %s; standby", self.client_id, self.group
                )
                announced = True
            if timeout_s is not None and time.monotonic() - started > timeout_s:
                return False
        return False

    def confirm(self) -> None:
        """Right before a write: raises LeaseLost unless the lease is still ours (membership
        kept, not fenced by a newer holder)."""
        self._consumer.poll(timeout_ms=0)
        self._guard.check()
        if not self._held.is_set() or self._producer is None:
            raise LeaseLost(f"{self.client_id} lost the lease of {self.group}")
        producer = self._producer
        try:
            producer.begin_transaction()
            producer.send(
                self.topic,
                key=self.group.encode(),
                value=self.client_id.encode(),
                partition=LEASE_PARTITION,
            )
            producer.commit_transaction()
        except ProducerFencedError as exc:
            self._fenced = True
            self._drop_producer()
            raise LeaseLost(
                f"{self.client_id} was fenced: a newer copy holds {self.group}"
            ) from exc
        except KafkaError as exc:
            # Not proven ours, so nothing may be written; taking the lease again starts a new
            # producer (whose init_transactions ends this one's open transaction).
            self._drop_producer()
            raise LeaseLost(
                f"{self.client_id} cannot confirm the lease of {self.group}: {exc}"
            ) from exc

    def why_not_held(self, service: str, waited_s: float) -> str:
        """The sentence for an --until-idle copy that never got the lease."""
        try:
            exists = bool(self._consumer.partitions_for_topic(self.topic))
        except KafkaError:  # kafka-python may raise for a topic that does not exist
            exists = False
        if not exists:
            return why_unassigned(self._consumer, [self.topic], waited_s, self.group)
        return (
            f"{service}: another copy held the lease ({self.group}) for {waited_s:.0f}s, so "
            "this one consumed nothing; stop the other copy or raise "
            "OPENBEAT_ASSIGNMENT_TIMEOUT_S"
        )

    def _fence_predecessors(self) -> None:
        if self._producer is None:
            self._producer = make_producer(
                self.bootstrap,
                client_id=f"{self.client_id}-lease",
                transactional_id=f"{self.group}-writer",
                linger_ms=0,
            )
            self._producer.init_transactions()

    def _drop_producer(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=1)
            except Exception:  # a fenced producer may refuse to close cleanly; it is dropped
                logger.debug("closing a fenced lease producer failed", exc_info=True)

    def release(self) -> None:
        """Stop holding (a clean stop): close the clients; the group moves the lease on."""
        self._held.clear()
        self._drop_producer()
        self._consumer.close(autocommit=False)


def run_single_writer(
    lease: Lease,
    stop: StopFlag,
    work: Callable[[], T],
    *,
    service: str,
    timeout_s: float | None = None,
) -> T | None:
    """Run `work` (build the service from its checkpoint, run its loop) each time this copy
    takes the lease, until it returns; a lost lease puts the copy back on standby.

    `work` is called only after the lease is taken and every earlier holder fenced, so the state
    it reads is the last one written by a holder. None when stopped while standing by. With
    `timeout_s` (an --until-idle run), a lease another copy keeps that long is an error.
    """
    try:
        while True:
            if not lease.acquire(stop, timeout_s):
                if stop.is_set():
                    return None
                raise NoPartitionsAssigned(lease.why_not_held(service, timeout_s or 0.0))
            try:
                return work()
            except LeaseLost as exc:
                logger.warning("%s: %s; standby again", service, exc)
    finally:
        lease.release()
