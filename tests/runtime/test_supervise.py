"""The supervisor restarts a service loop after transient faults and only after those."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from kafka.errors import (
    CommitFailedError,
    KafkaConnectionError,
    KafkaTimeoutError,
    ProducerFencedError,
)

from openbeat.runtime.health import HEALTH
from openbeat.runtime.loop import LoopStats, StopFlag
from openbeat.runtime.supervise import (
    Backoff,
    DuplicateInstance,
    Supervised,
    fault_key,
    is_transient,
    recovered,
    run_supervised,
    supervise,
)
from openbeat.store.base import StoreUnavailable


class Attempts:
    """Fails with each of `errors` in turn, then returns; records health on every call."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0
        self.healthy: list[bool] = []

    def __call__(self, stats: LoopStats) -> None:
        self.calls += 1
        self.healthy.append(HEALTH.healthy)
        stats.consumed += 10
        if self.errors:
            raise self.errors.pop(0)


def _supervise(attempt: Any, sleeps: list[float] | None = None) -> LoopStats:
    waits = sleeps if sleeps is not None else []
    return supervise(
        "anonymizer",
        attempt,
        stop=StopFlag(),
        bootstrap="127.0.0.1:1",
        backoff=Backoff(base_s=0.001, max_s=0.004),
        sleep=waits.append,
    )


def test_transient_faults_restart_the_loop_and_counts_carry_over(
    caplog: pytest.LogCaptureFixture,
) -> None:
    attempts = Attempts(
        KafkaTimeoutError("Timeout after waiting for 30000 ms"),
        KafkaConnectionError("connection refused"),
        StoreUnavailable("put x on s3://b/p still failing after 9 attempts"),
        CommitFailedError("rebalanced"),
    )
    with caplog.at_level(logging.WARNING, logger="openbeat.runtime.supervise"):
        stats = _supervise(attempts)

    assert attempts.calls == 5
    assert stats.consumed == 50
    # Unhealthy from the first fault until the attempt that works returns.
    assert attempts.healthy == [True, False, False, False, False]
    assert HEALTH.healthy
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 4
    assert all(line.startswith("service anonymizer: ") for line in lines)
    assert "Kafka at 127.0.0.1:1 is unavailable" in lines[0] and "KafkaTimeoutError" in lines[0]
    assert "object store is unavailable" in lines[2] and "s3://b/p" in lines[2]


def test_back_off_doubles_and_is_capped() -> None:
    backoff = Backoff(base_s=1.0, max_s=8.0)
    delays = [backoff.delay(n) for n in range(1, 8)]
    assert [round(d / 2 ** min(n, 3)) for n, d in enumerate(delays)] == [1] * 7
    assert all(0.75 * 8 <= d <= 8 for d in delays[3:])


@pytest.mark.parametrize("error", [ValueError("bad mapping"), KeyError("x"), RuntimeError("a bug")])
def test_other_errors_end_the_service_at_once(error: BaseException) -> None:
    attempts = Attempts(error)
    with pytest.raises(type(error)):
        _supervise(attempts)
    assert attempts.calls == 1
    assert HEALTH.healthy


def test_fenced_again_and_again_is_a_duplicate_instance_id() -> None:
    attempts = Attempts(*(ProducerFencedError() for _ in range(5)))
    with pytest.raises(DuplicateInstance, match="OPENBEAT_INSTANCE_ID"):
        _supervise(attempts)
    assert attempts.calls == 3


def test_fenced_once_after_a_timed_out_transaction_is_retried() -> None:
    attempts = Attempts(ProducerFencedError())
    _supervise(attempts)
    assert attempts.calls == 2


def test_a_stop_during_the_back_off_ends_the_run() -> None:
    stop = StopFlag()
    attempts = Attempts(KafkaTimeoutError("down"), KafkaTimeoutError("down"))

    def sleep(_: float) -> None:
        stop.set()

    supervise("alerter", attempts, stop=stop, bootstrap="b", backoff=Backoff(), sleep=sleep)
    assert attempts.calls == 1


def test_classification() -> None:
    assert is_transient(KafkaTimeoutError())
    assert is_transient(ConnectionResetError())
    assert not is_transient(ValueError())
    from kafka.errors import TopicAuthorizationFailedError

    assert not is_transient(TopicAuthorizationFailedError())


class Recording:
    input_topics = ("t",)

    def __init__(self) -> None:
        self.events: list[str] = []

    def start(self) -> None:
        self.events.append("start")

    def close(self) -> None:
        self.events.append("close")

    def assigned(self, partitions: set[Any]) -> None:
        self.events.append(f"assigned {sorted(partitions)}")

    def revoked(self, partitions: set[Any]) -> None:
        self.events.append(f"revoked {sorted(partitions)}")

    def abort(self) -> None:
        self.events.append("abort")


def test_a_restarted_processor_forgets_uncommitted_state_and_keeps_its_workers() -> None:
    processor = Recording()
    seen: list[Any] = []

    def loop(p: Any, stats: LoopStats) -> None:
        seen.append(p)
        assert getattr(p, "start", None) is None and getattr(p, "close", None) is None
        p.assigned({1, 2})
        if len(seen) == 1:
            HEALTH.begin(fault_key("anonymizer"), "down")
            raise KafkaTimeoutError("down")

    inner, _ = run_supervised(
        "anonymizer",
        processor,
        loop,
        stop=StopFlag(),
        bootstrap="b",
        backoff=Backoff(base_s=0.001, max_s=0.001),
    )
    assert inner is processor
    assert processor.events == [
        "start",
        "assigned [1, 2]",
        "abort",
        "revoked [1, 2]",
        "assigned [1, 2]",
        "close",
    ]
    assert isinstance(seen[0], Supervised) and seen[0] is seen[1]


def test_a_restarted_store_service_gets_a_fresh_processor() -> None:
    first, second = Recording(), Recording()

    def loop(p: Any, stats: LoopStats) -> None:
        if p.inner is first:
            raise StoreUnavailable("gone")

    inner, _ = run_supervised(
        "aggregator",
        first,
        loop,
        stop=StopFlag(),
        bootstrap="b",
        backoff=Backoff(base_s=0.001, max_s=0.001),
        rebuild=lambda: second,
    )
    assert inner is second


def test_the_back_off_grows_until_the_loop_recovers_however_long_each_attempt_took(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A broker that stays down makes each attempt wait out its bootstrap timeout (10 s, more
    than the back-off cap): that is no recovery, so the attempts keep counting up."""
    recovered_after = 3

    class Slow(Attempts):
        def __call__(self, stats: LoopStats) -> None:
            if self.calls == recovered_after:
                recovered("anonymizer")
            super().__call__(stats)

    attempts = Slow(*[KafkaTimeoutError("Unable to bootstrap")] * 5)
    with caplog.at_level(logging.WARNING, logger="openbeat.runtime.supervise"):
        _supervise(attempts)
    numbers = [r.getMessage().split("(attempt ")[1].split(",")[0] for r in caplog.records]
    assert numbers == ["1", "2", "3", "1", "2"]
