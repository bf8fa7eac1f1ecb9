"""Keeping a service running through transient faults: restart its loop with capped back-off.

A broker that is stopped or killed, a coordinator that moves, an object store that keeps
refusing past its own retries (StoreUnavailable): none of these is the service's fault, and none
may end `openbeat run`. The loops (runtime.loop, runtime.sink_loop) raise on such faults with
their offsets uncommitted; `supervise` then logs one line naming the service and the real cause,
marks the process unhealthy (runtime.health), waits (1 s, 2 s, 4 s ... capped) and starts the
loop again, for as long as the fault lasts. A restarted loop resumes from the committed offsets,
exactly like a copy restarted after a crash, so nothing is lost or duplicated.

Only what retrying cannot fix ends the service: configuration errors (a setting, named in the
message), a store or state the service must refuse to use, and bugs (unknown exceptions are not
retried: a loop that fails the same way forever would hide them).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kafka.errors import ProducerFencedError

from openbeat.runtime.errors import describe_fault as describe_fault
from openbeat.runtime.errors import is_transient as is_transient
from openbeat.runtime.health import HEALTH
from openbeat.runtime.loop import LoopStats, StopFlag

logger = logging.getLogger(__name__)

# A copy fenced this many times in a row, each soon after it started, is not the victim of a
# timed-out transaction (the broker bumps the epoch once) but shares its id with a running copy.
FENCED_LIMIT = 3


class DuplicateInstance(RuntimeError):
    """Another running copy uses this copy's transactional id (OPENBEAT_INSTANCE_ID)."""


@dataclass(frozen=True)
class Backoff:
    """Capped exponential back-off with jitter: base, 2*base, 4*base ... up to `max_s`."""

    base_s: float = 1.0
    max_s: float = 30.0

    def delay(self, attempt: int) -> float:
        raw = min(self.max_s, self.base_s * 2 ** max(0, attempt - 1))
        return raw * (0.75 + random.random() / 4)


def merge_into(total: LoopStats, part: LoopStats) -> None:
    total.consumed += part.consumed
    total.produced += part.produced
    total.transactions += part.transactions
    total.aborted += part.aborted
    for topic, n in part.by_topic.items():
        total.by_topic[topic] = total.by_topic.get(topic, 0) + n


def supervise(
    service: str,
    attempt: Callable[[LoopStats], None],
    *,
    stop: StopFlag,
    bootstrap: str,
    backoff: Backoff,
    sleep: Callable[[float], None] = time.sleep,
) -> LoopStats:
    """Run `attempt(stats)` until it returns (or `stop` is set), restarting it after each
    transient fault; `stats` is shared by every attempt, so counts and metrics keep growing.

    The fault `service:<name>` stays open in HEALTH from the first failure until an attempt
    returns or calls `recovered(service)` (the loop got its partitions back).
    """
    stats = LoopStats()
    failures = 0
    fenced = 0
    began = time.time()
    key = fault_key(service)
    try:
        while True:
            started = time.monotonic()
            try:
                attempt(stats)
                return stats
            except Exception as exc:
                if isinstance(exc, ProducerFencedError):
                    fenced = fenced + 1 if time.monotonic() - started < 60 else 1
                    if fenced >= FENCED_LIMIT:
                        raise DuplicateInstance(
                            f"another running copy of {service} uses the same "
                            "OPENBEAT_INSTANCE_ID (its transactional id fenced this one "
                            f"{fenced} times): give every copy its own id"
                        ) from exc
                elif not is_transient(exc):
                    raise
                # An attempt that worked again (recovered) before this fault starts the
                # back-off afresh; one that never did (the broker is still down) continues it.
                if not HEALTH.faults().get(key):
                    failures = 0
                failures += 1
                if not HEALTH.faults().get(key):
                    began = time.time()
                delay = backoff.delay(failures)
                why = describe_fault(exc, bootstrap)
                logger.warning(
                    "service %s: %s; restarting it in %.1f s (attempt %d, fault began %.0f s ago)",
                    service,
                    why,
                    delay,
                    failures,
                    time.time() - began,
                )
                HEALTH.begin(key, f"service {service}: {why}")
            _wait(delay, stop, sleep)
            if stop.is_set():
                return stats
    finally:
        HEALTH.end(key)


def fault_key(service: str) -> str:
    return f"service:{service}"


def recovered(service: str) -> None:
    """The service's loop is working again (e.g. it was assigned partitions)."""
    if HEALTH.faults().get(fault_key(service)):
        logger.info("service %s: recovered", service)
    HEALTH.end(fault_key(service))


def _wait(seconds: float, stop: StopFlag, sleep: Callable[[float], None]) -> None:
    """Sleep `seconds`, waking early when stopped."""
    end = time.monotonic() + seconds
    while not stop.is_set():
        left = end - time.monotonic()
        if left <= 0:
            return
        sleep(min(0.2, left))


class Supervised:
    """A processor as a supervised loop sees it.

    `start`/`close` are hidden (the supervisor calls them once around every attempt, so a
    restart never closes the anonymizer's workers or forks new ones beside client threads);
    `assigned` also tells the supervisor the loop works again; the partitions it owns are
    tracked so a failed attempt's state can be dropped (`reset`).
    """

    def __init__(self, inner: Any, service: str) -> None:
        self.inner = inner
        self.service = service
        self.owned: set[Any] = set()

    def __getattr__(self, name: str) -> Any:
        if name in ("start", "close"):
            raise AttributeError(name)
        return getattr(self.inner, name)

    def assigned(self, partitions: set[Any]) -> None:
        self.owned |= partitions
        self.inner.assigned(partitions)
        recovered(self.service)

    def revoked(self, partitions: set[Any]) -> None:
        self.owned -= partitions
        self.inner.revoked(partitions)

    def reset(self) -> Supervised:
        """After a failed attempt: forget what was not committed, and the partitions' state
        (the next attempt restores it on assignment, from what was committed)."""
        abort = getattr(self.inner, "abort", None)
        if callable(abort):
            abort()
        if self.owned:
            self.inner.revoked(set(self.owned))
            self.owned.clear()
        return self


def run_supervised(
    service: str,
    processor: Any,
    loop: Callable[[Any, LoopStats], object],
    *,
    stop: StopFlag,
    bootstrap: str,
    backoff: Backoff,
    rebuild: Callable[[], Any] | None = None,
) -> tuple[Any, LoopStats]:
    """Run `loop(processor, stats)` under `supervise`; after a failed attempt the next one gets
    a fresh processor from `rebuild` (state reloaded from the store, as after a crash), or the
    same one reset. Returns the processor that ran last and the counts of every attempt."""
    start = getattr(processor, "start", None)
    if callable(start):
        start()
    current = Supervised(processor, service)
    fresh = True

    def attempt(stats: LoopStats) -> None:
        nonlocal current, fresh
        if not fresh:
            current = Supervised(rebuild(), service) if rebuild else current.reset()
        fresh = False
        loop(current, stats)

    try:
        stats = supervise(service, attempt, stop=stop, bootstrap=bootstrap, backoff=backoff)
    finally:
        close = getattr(current.inner, "close", None)
        if callable(close):
            close()
    return current.inner, stats
