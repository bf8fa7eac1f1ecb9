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

A standby is a settled member of the lease group (stable, no partition). A copy that does not
settle for `STUCK_S` has a client stalled in the join (runtime.membership), not a rival: it
replaces its lease consumer, as the input consumers' supervisor does, instead of standing by
for good.
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
from kafka.errors import KafkaError, KafkaTimeoutError, ProducerFencedError

from openbeat.runtime.clients import make_consumer, make_producer
from openbeat.runtime.idle import NoPartitionsAssigned, why_unassigned
from openbeat.runtime.lifecycle import StopFlag
from openbeat.runtime.membership import STUCK_S, GroupJoinStuck, MembershipGuard

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
# How long a holder waits for its one-record confirm transaction. kafka-python waits without
# limit; after a broker restart a holder's confirm waited ~120 s (the batch's delivery timeout)
# with its loop blocked, silent, and its lease consumer never polled back into the group.
# 15 s: a healthy confirm takes milliseconds, a loaded broker a second or two; a confirm given
# up on sends the copy back to standby, from where it takes the lease again once it can.
CONFIRM_TIMEOUT_S = 15.0


class LeaseLost(RuntimeError):
    """This copy no longer holds its service's lease: it must not write anything more."""


class Lease(ConsumerRebalanceListener):
    """One copy's hold on its service's lease (see the module docstring)."""

    def __init__(
        self,
        *,
        bootstrap: str,
        topic: str,
        group: str,
        client_id: str,
        instance_id: str,
        stuck_s: float = STUCK_S,
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
        self.instance_id = instance_id
        self.stuck_s = stuck_s
        self._consumer, self._guard = self._connect()

    def _connect(self) -> tuple[Any, MembershipGuard]:
        consumer = make_consumer(
            self.bootstrap,
            client_id=self.client_id,
            group_id=self.group,
            instance_id=self.instance_id,
            partition_assignment_strategy=[CooperativeStickyAssignor],
            **SINGLE_WRITER_CONSUMER,
        )
        consumer.subscribe([self.topic], listener=self)
        return consumer, MembershipGuard(consumer, self.group, stuck_s=self.stuck_s)

    def _reconnect(self, why: GroupJoinStuck, stop: StopFlag | None = None) -> None:
        """A fresh lease consumer for one whose client stalled joining the group: a standby is
        a settled member too, so one that never settles is not waiting on another copy (seen
        in a fresh group on a loaded machine: "another copy holds the lease" for 180 s with no
        other copy). Same instance id, so the group takes the new consumer for the old one.
        A broker that is away makes the new consumer wait for it, as every other client does."""
        logger.warning("%s: %s", self.client_id, why)
        self._held.clear()
        old = self._consumer
        try:
            old.close(autocommit=False)
        except Exception:  # a stalled client may not close cleanly; it is replaced anyway
            logger.debug("closing a stalled lease consumer failed", exc_info=True)
        attempts = 0
        while stop is None or not stop.is_set():
            try:
                self._consumer, self._guard = self._connect()
                return
            except KafkaError as exc:  # no broker to bootstrap from
                if attempts % 10 == 0:
                    logger.warning(
                        "%s: waiting for Kafka to rejoin %s: %s", self.client_id, self.group, exc
                    )
                attempts += 1
                time.sleep(1.0)

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
            except GroupJoinStuck as exc:
                self._reconnect(exc, stop)
                continue
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
        try:
            self._consumer.poll(timeout_ms=0)
            self._guard.check()
        except GroupJoinStuck as exc:
            self._drop_producer()
            self._reconnect(exc)
            raise LeaseLost(f"{self.client_id} dropped out of {self.group}") from exc
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
            commit_within(producer, CONFIRM_TIMEOUT_S)
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
            f"OPENBEAT_ASSIGNMENT_TIMEOUT_S ({self._guard.describe()})"
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


def commit_within(producer: Any, timeout_s: float) -> None:
    """`producer.commit_transaction()` that raises KafkaTimeoutError after `timeout_s`.

    kafka-python 3.0.12 offers no timeout; this waits on the same request its own method waits
    on (the transaction manager's result), and falls back to the unbounded call when a later
    client lacks those attributes.
    """
    manager = getattr(producer, "_transaction_manager", None)
    sender = getattr(producer, "_sender", None)
    begin = getattr(manager, "begin_commit", None)
    if not callable(begin) or sender is None:
        producer.commit_transaction()
        return
    result = begin()
    sender.wakeup()
    if not result.wait(timeout_ms=int(timeout_s * 1000)):
        raise KafkaTimeoutError(f"transaction commit not acknowledged within {timeout_s:.0f} s")
