"""A consumer that dropped out of its group without knowing rejoins (runtime.membership)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from openbeat.runtime.membership import GroupJoinStuck, MembershipGuard
from openbeat.runtime.supervise import describe_fault, is_transient


class FakeHeartbeat:
    def __init__(self) -> None:
        self.last_receive = 0.0
        self.last_reset = 0.0


class FakeCoordinator:
    def __init__(self) -> None:
        self.heartbeat = FakeHeartbeat()
        self.is_stable = True
        self.known = True
        self.rejoin_requests = 0

    def stable(self) -> bool:
        return self.is_stable

    def coordinator_unknown(self) -> bool:
        return not self.known

    def request_rejoin(self) -> None:
        self.rejoin_requests += 1


class FakeConsumer:
    def __init__(self) -> None:
        self.config = {"session_timeout_ms": 10_000}
        self._coordinator = FakeCoordinator()


def _guard() -> tuple[MembershipGuard, FakeConsumer, list[float]]:
    now = [0.0]
    consumer = FakeConsumer()
    return MembershipGuard(consumer, "g", clock=lambda: now[0]), consumer, now


def test_a_member_whose_heartbeats_are_answered_is_left_alone() -> None:
    guard, consumer, now = _guard()
    for t in range(0, 120, 3):
        now[0] = float(t)
        consumer._coordinator.heartbeat.last_receive = float(t)
        assert not guard.check()
    assert consumer._coordinator.rejoin_requests == 0


def test_a_stable_member_without_heartbeats_past_its_session_rejoins_once_per_session() -> None:
    guard, consumer, now = _guard()
    now[0] = 10.0
    assert not guard.check()  # exactly one session: the broker may still hold it
    now[0] = 10.5
    assert guard.check()
    now[0] = 15.0
    assert not guard.check()  # the rejoin is under way
    now[0] = 21.0
    assert guard.check()
    assert consumer._coordinator.rejoin_requests == 2


def test_a_member_that_is_rejoining_anyway_is_not_asked_again() -> None:
    guard, consumer, now = _guard()
    consumer._coordinator.is_stable = False
    now[0] = 50.0
    assert not guard.check()


def test_a_member_that_never_settles_gets_a_fresh_consumer_through_the_supervisor() -> None:
    guard, consumer, now = _guard()
    consumer._coordinator.known = False  # stuck looking for its coordinator
    now[0] = 59.0
    assert not guard.check()
    consumer._coordinator.known = True  # settles in time: the clock starts again
    consumer._coordinator.heartbeat.last_receive = now[0]
    assert not guard.check()
    consumer._coordinator.is_stable = False
    now[0] = 100.0
    assert not guard.check()
    now[0] = 161.0
    with pytest.raises(GroupJoinStuck) as caught:
        guard.check()
    assert is_transient(caught.value)
    said = describe_fault(caught.value, "broker:9092")
    assert said.startswith("consumer group g: not settled into the group for 61 s")
    assert "unavailable" not in said


def test_a_standby_guard_never_replaces_its_consumer() -> None:
    consumer = FakeConsumer()
    now = [0.0]
    guard = MembershipGuard(consumer, "g", stuck_s=None, clock=lambda: now[0])
    consumer._coordinator.is_stable = False
    now[0] = 10_000.0
    assert not guard.check()


def test_a_client_without_the_bookkeeping_is_skipped() -> None:
    guard = MembershipGuard(object(), "g")
    assert not guard.check()


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_a_real_consumer_whose_heartbeat_stopped_gets_back_into_its_group(
    kafka_bootstrap: str, make_topic: Callable[..., str], unique_name: Callable[[str], str]
) -> None:
    """The client bug, provoked: heartbeats stopped on a stable static member. Without the
    guard the broker empties the group and the member never learns (the control); with it the
    member is back in the group within about two sessions."""
    import time

    from kafka.admin import KafkaAdminClient

    from openbeat.runtime.clients import make_consumer

    topic = make_topic("membership")
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)

    def members(group: str) -> int:
        return len(admin.describe_groups([group])[group]["members"])

    def joined(group: str) -> Any:
        # The same client can also stall in the join itself (a loaded machine, a fresh
        # broker): what the supervisor answers with a fresh consumer, as done here.
        for _attempt in range(3):
            consumer = make_consumer(
                kafka_bootstrap,
                client_id=f"{group}-0",
                group_id=group,
                instance_id=f"{group}-0",
                session_timeout_ms=6_000,
                heartbeat_interval_ms=1_000,
            )
            consumer.subscribe([topic])
            deadline = time.monotonic() + 20
            while not consumer.assignment() and time.monotonic() < deadline:
                consumer.poll(timeout_ms=200)
            if consumer.assignment():
                # What kafka-python 3.0.12 sometimes does on its own.
                consumer._coordinator._disable_heartbeat()
                return consumer
            consumer.close(autocommit=False)
        raise AssertionError(f"{group}: never assigned in three fresh consumers")

    try:
        control_group = unique_name("zombie")
        control = joined(control_group)
        guarded_group = unique_name("guarded")
        guarded = joined(guarded_group)
        guard = MembershipGuard(guarded, guarded_group)
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline:
            control.poll(timeout_ms=100)
            guarded.poll(timeout_ms=100)
            guard.check()
        assert members(control_group) == 0, "the provoked zombie should have been expired"
        assert control.assignment(), "the zombie still believes it holds its partition"
        assert guard.rejoins >= 1
        assert members(guarded_group) == 1 and guarded.assignment()
    finally:
        admin.close()
        for c in ("control", "guarded"):
            if c in locals():
                locals()[c].close(autocommit=False)
