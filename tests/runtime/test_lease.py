"""A lease copy whose client stalled joining the group gets a fresh consumer (runtime.lease).

Seen under load on a fresh broker: the lease consumer joined two generations in 150 ms, never
finished the second, and the copy reported "another copy holds the lease" for 180 s with no
other copy running. The fakes stand in for kafka-python's consumer and transactional producer;
the real join is exercised by the single-writer failover tests.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from kafka import TopicPartition

from openbeat.runtime import lease as lease_module
from openbeat.runtime.lease import Lease, LeaseLost
from openbeat.runtime.lifecycle import StopFlag

TOPIC = "ns.state.leases"


class FakeCoordinator:
    def __init__(self, settles: bool) -> None:
        self.settles = settles
        self.heartbeat = type("Heartbeat", (), {"last_receive": 0.0, "last_reset": 1e12})()
        self._generation = type("Generation", (), {"generation_id": 2})()

    @property
    def state(self) -> str:
        return "STABLE" if self.settles else "REBALANCING"

    def stable(self) -> bool:
        return self.settles

    def coordinator_unknown(self) -> bool:
        return not self.settles

    def request_rejoin(self) -> None:
        pass


class FakeConsumer:
    """Settles and is given the lease partition on its first poll, or never settles."""

    def __init__(self, settles: bool) -> None:
        self._coordinator = FakeCoordinator(settles)
        self.config = {"session_timeout_ms": 6_000}
        self.listener: Any = None
        self.closed = False

    def subscribe(self, topics: list[str], listener: Any) -> None:
        self.listener = listener

    def poll(self, timeout_ms: int = 0) -> dict[Any, Any]:
        assert not self.closed, "polled after close"
        if self._coordinator.settles and self.listener is not None:
            self.listener.on_partitions_assigned([TopicPartition(TOPIC, 0)])
            self.listener = None
        return {}

    def partitions_for_topic(self, topic: str) -> set[int]:
        return {0}

    def close(self, autocommit: bool = True) -> None:
        self.closed = True


class FakeResult:
    def __init__(self, answered: bool) -> None:
        self.answered = answered

    def wait(self, timeout_ms: int | None = None) -> bool:
        if not self.answered:
            time.sleep((timeout_ms or 0) / 1000)
        return self.answered


class FakeProducer:
    """A transactional producer whose commits the broker answers, or (`unanswered`) never
    does: kafka-python's own commit_transaction() then waits for good."""

    unanswered = False

    def __init__(self) -> None:
        self._sender = type("Sender", (), {"wakeup": lambda self: None})()
        self._transaction_manager = self

    def begin_commit(self) -> FakeResult:
        return FakeResult(not FakeProducer.unanswered)

    def init_transactions(self) -> None: ...
    def begin_transaction(self) -> None: ...
    def send(self, *args: Any, **kwargs: Any) -> None: ...

    def commit_transaction(self) -> None:
        if FakeProducer.unanswered:
            threading.Event().wait()

    def close(self, timeout: float = 0) -> None: ...


def _lease(
    monkeypatch: pytest.MonkeyPatch, settle: list[bool], stuck_s: float
) -> tuple[Lease, list[FakeConsumer]]:
    made: list[FakeConsumer] = []

    def make_consumer(*args: Any, **kwargs: Any) -> FakeConsumer:
        consumer = FakeConsumer(settle[len(made)] if len(made) < len(settle) else True)
        made.append(consumer)
        return consumer

    monkeypatch.setattr(lease_module, "make_consumer", make_consumer)
    monkeypatch.setattr(lease_module, "make_producer", lambda *a, **k: FakeProducer())
    lease = Lease(
        bootstrap="unused:9092",
        topic=TOPIC,
        group="ns-aggregator-lease",
        client_id="ns-aggregator-0",
        instance_id="ns-aggregator-0",
        stuck_s=stuck_s,
    )
    return lease, made


def test_a_copy_whose_join_stalled_takes_the_lease_with_a_fresh_consumer(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lease, made = _lease(monkeypatch, settle=[False], stuck_s=0.3)
    assert lease.acquire(StopFlag(), timeout_s=10)
    assert len(made) == 2 and made[0].closed and not made[1].closed
    lease.confirm()  # the fresh consumer's hold is a real one


def test_a_stalled_copy_without_the_guard_would_stand_by_for_good(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The control: a stall longer than the wait is reported as another copy's lease."""
    lease, made = _lease(monkeypatch, settle=[False], stuck_s=60)
    assert not lease.acquire(StopFlag(), timeout_s=1.0)
    assert len(made) == 1
    assert "member state REBALANCING" in lease.why_not_held("aggregator", 1.0)


def test_a_holder_whose_client_stops_settling_loses_the_lease_and_takes_it_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lease, made = _lease(monkeypatch, settle=[True, True], stuck_s=0.3)
    assert lease.acquire(StopFlag(), timeout_s=10)
    made[0]._coordinator.settles = False  # the broker away, or the client stalled
    lease.confirm()
    time.sleep(0.4)
    with pytest.raises(LeaseLost):
        lease.confirm()
    assert made[0].closed and not lease.held
    assert lease.acquire(StopFlag(), timeout_s=10)
    lease.confirm()


@pytest.mark.timeout(30)
def test_a_holder_whose_confirm_is_never_answered_gives_the_lease_up_in_bounded_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a broker restart a holder's confirm waited ~120 s with its loop blocked and its
    lease consumer never polled; bounded, the holder stands by and takes the lease again."""
    lease, _ = _lease(monkeypatch, settle=[True], stuck_s=60)
    monkeypatch.setattr(lease_module, "CONFIRM_TIMEOUT_S", 0.2)
    monkeypatch.setattr(FakeProducer, "unanswered", False)
    assert lease.acquire(StopFlag(), timeout_s=10)
    monkeypatch.setattr(FakeProducer, "unanswered", True)
    with pytest.raises(LeaseLost, match="not acknowledged"):
        lease.confirm()
    monkeypatch.setattr(FakeProducer, "unanswered", False)
    lease.on_partitions_assigned([TopicPartition(TOPIC, 0)])  # the group gives it back
    assert lease.acquire(StopFlag(), timeout_s=10)
    lease.confirm()
