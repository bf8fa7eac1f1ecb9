"""Rejoining a consumer group the client silently dropped out of.

kafka-python 3.0.12 can end a rebalance believing it is a stable member while its heartbeat loop
has stopped: the broker expires the member after `session_timeout_ms` ("has failed, removing it
from the group ... on heartbeat expiration" in the broker log), the group is left empty, and the
client, which never heartbeats again, never hears of it. Its `poll` keeps fetching the partitions
it was given, so a busy loop limps on until a commit fails, but a drained one waits forever:
in our tests a publisher or aggregator copy got "no partitions" after 180 s, or wrote nothing
in four minutes, a few times in a hundred runs, more often under load.

The same client can also stall inside the join itself: the broker completes the rebalance
(and, a rebalance later, expires the member), while the client never finishes it, never calls
the rebalance listener, and keeps looking for a coordinator it never finds. Seen in a chaos run:
the aggregator's input consumer joined two generations in 150 ms, then sat unassigned for minutes
across a restart of its process.

`MembershipGuard` looks after every poll. A member that believes it is stable but has had no
heartbeat answered for longer than its session asks to rejoin (`request_rejoin`), as the Java
client does on a failed heartbeat; a static member gets its partitions back in one JoinGroup.
A member that has not been a settled member (stable, coordinator known) for `stuck_s` raises
`GroupJoinStuck`, a transient KafkaError: the supervisor (runtime.supervise) logs it and
restarts the loop with a fresh consumer, which resumes from the committed offsets.
It reads the client's own bookkeeping (private attributes, checked for and skipped when a later
kafka-python lacks them), since nothing public tells a member from a zombie without a request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from kafka.errors import KafkaError

logger = logging.getLogger(__name__)

# How long a member may go without being settled before its consumer is replaced. 60 s: a
# healthy join takes well under a second here and a busy broker's rebalance a few seconds; a
# rebalance legitimately waiting for a slow member is cut short by a fresh consumer at worst.
STUCK_S = 60.0


class GroupJoinStuck(KafkaError):
    """The consumer has not settled into its group for `STUCK_S` (module docstring)."""

    retriable = True


class MembershipGuard:
    """Asks a consumer that dropped out of its group unawares to rejoin (module docstring)."""

    def __init__(
        self,
        consumer: Any,
        group: str,
        *,
        stuck_s: float | None = STUCK_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.consumer = consumer
        self.group = group
        self.clock = clock
        # None: never replace the consumer.
        self.stuck_s = stuck_s
        self.unsettled_since: float | None = clock()
        config = getattr(consumer, "config", {}) or {}
        self.session_s = float(config.get("session_timeout_ms", 45_000)) / 1000
        self.rejoins = 0

    def check(self) -> bool:
        """True when it asked the client to rejoin; raises GroupJoinStuck (module docstring)."""
        coordinator: Any = getattr(self.consumer, "_coordinator", None)
        heartbeat = getattr(coordinator, "heartbeat", None)
        stable = getattr(coordinator, "stable", None)
        unknown = getattr(coordinator, "coordinator_unknown", None)
        if heartbeat is None or not callable(stable) or not callable(unknown):
            return False
        if not stable() or unknown():
            now = self.clock()
            if self.unsettled_since is None:
                self.unsettled_since = now
            elif self.stuck_s is not None and now - self.unsettled_since > self.stuck_s:
                raise GroupJoinStuck(
                    f"consumer group {self.group}: not settled into the group for "
                    f"{now - self.unsettled_since:.0f} s (the client stalled joining it); "
                    "starting a fresh consumer"
                )
            return False
        self.unsettled_since = None
        # Last sign of membership: an answered heartbeat, or the join that (re)started the clock.
        last = max(getattr(heartbeat, "last_receive", 0.0), getattr(heartbeat, "last_reset", 0.0))
        silent = self.clock() - last
        if silent <= self.session_s:
            return False
        self.rejoins += 1
        logger.warning(
            "consumer group %s: no heartbeat answered for %.0f s (session %.0f s) while the "
            "client believes it is a member; the broker has dropped it, rejoining",
            self.group,
            silent,
            self.session_s,
        )
        coordinator.request_rejoin()
        # The rejoin starts the clock again (the client resets its timeouts on a join); until
        # then do not ask twice.
        heartbeat.last_reset = self.clock()
        return True

    def describe(self) -> str:
        """`membership_state` of the consumer, with the rejoins this guard asked for."""
        return f"{membership_state(self.consumer)}, {self.rejoins} rejoin(s) asked"


def membership_state(consumer: Any) -> str:
    """Where the client believes it stands in its group, for an error that says why a consumer
    got nothing: a member of a generation with no partitions is another copy's doing, one that
    never became a member is the client's or the broker's."""
    coordinator: Any = getattr(consumer, "_coordinator", None)
    state = getattr(coordinator, "state", None)
    generation = getattr(coordinator, "_generation", None)
    if state is None or generation is None:
        return "membership unknown"
    unknown = getattr(coordinator, "coordinator_unknown", lambda: False)
    return (
        f"member state {getattr(state, 'name', state)}, generation "
        f"{getattr(generation, 'generation_id', '?')}, coordinator "
        f"{'unknown' if unknown() else 'known'}"
    )
