"""The chaos run's fault schedule: SIGKILLs of every service, a broker kill -9 and restart, and
a store outage, injected one after another into a pipeline under a steady emit.

Kills go round robin over the services, each after a short random pause (so they land mid-batch,
mid-flush or mid-release) once the service has recovered from its previous kill; services still
recovering from one kill may be killed meanwhile, as happens in a real crash loop. The broker
fault comes after a third of the kills, the store outage after two thirds, each once every
service has recovered, so their recovery times are their own.

Recovery time: from the end of the fault (the killed service restarted, the broker serving
again, the store reachable again) to the first advance of the service's committed offsets, i.e.
to new output made durable. A service that does not advance within the recovery timeout did not
survive the fault.
"""

from __future__ import annotations

import logging
import random
import statistics
import time
from dataclasses import dataclass, field
from typing import Any

from bench.chaos_infra import Broker, FaultProxy
from bench.chaos_services import SERVICES, ProgressMonitor, Supervisor

logger = logging.getLogger(__name__)

STORE_SERVICES = ("aggregator", "publisher", "alerter")


@dataclass
class Pending:
    """A kill whose recovery is not yet seen."""

    service: str
    restarted_at: float
    committed: int


@dataclass
class FaultFigures:
    kills: dict[str, list[float | None]] = field(
        default_factory=lambda: {s: [] for s in SERVICES}
    )  # recovery seconds per kill (None: not recovered in time)
    broker: list[dict[str, Any]] = field(default_factory=list)
    outages: list[dict[str, Any]] = field(default_factory=list)


def summary(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "median": round(statistics.median(ordered), 2),
        "p95": round(p95, 2),
        "max": round(ordered[-1], 2),
    }


class FaultSchedule:
    def __init__(
        self,
        supervisor: Supervisor,
        monitor: ProgressMonitor,
        broker: Broker,
        proxy: FaultProxy,
        *,
        kills: int,
        broker_kills: int,
        broker_down_s: float,
        outage_s: float,
        kill_gap_s: float,
        recovery_timeout_s: float,
        seed: int,
    ) -> None:
        self.supervisor, self.monitor, self.broker, self.proxy = supervisor, monitor, broker, proxy
        self.kills, self.broker_kills, self.broker_down_s = kills, broker_kills, broker_down_s
        self.outage_s, self.kill_gap_s = outage_s, kill_gap_s
        self.recovery_timeout_s = recovery_timeout_s
        self.rng = random.Random(seed)
        self.figures = FaultFigures()
        self.pending: dict[str, Pending] = {}

    def plan(self) -> list[str]:
        """The steps in order: 'kill:<service>' round robin, 'broker' and 'store' between."""
        steps = [f"kill:{s}" for _ in range(self.kills) for s in SERVICES]
        total = len(steps)
        for i in range(self.broker_kills):
            steps.insert(total * (i + 1) // (3 * self.broker_kills) + i, "broker")
        if self.outage_s > 0:
            steps.insert(len(steps) * 2 // 3, "store")
        return steps

    def run(self) -> FaultFigures:
        steps = self.plan()
        for n, step in enumerate(steps, 1):
            logger.info("chaos: step %d/%d %s", n, len(steps), step)
            if step == "broker":
                self._settle_all()
                self._broker_fault()
            elif step == "store":
                self._settle_all()
                self._store_outage()
            else:
                self._kill(step.split(":", 1)[1])
        self._settle_all()
        return self.figures

    # -- kills -------------------------------------------------------------------------------

    def _kill(self, service: str) -> None:
        self._settle(service)
        time.sleep(self.kill_gap_s + self.rng.uniform(0, 2.0))
        restarted = self.supervisor.kill(service)
        # Read after the kill: what the dead process committed is not the new one's progress.
        before = self.monitor.poll_now()[service]
        self.pending[service] = Pending(service, restarted, before)

    def _settle(self, service: str) -> None:
        """Wait until a pending kill of `service` has recovered (or timed out) and record it."""
        pending = self.pending.pop(service, None)
        if pending is None:
            return
        seen = self.monitor.wait_advance(
            service, pending.restarted_at, pending.committed, self.recovery_timeout_s
        )
        took = None if seen is None else round(seen - pending.restarted_at, 2)
        if took is None:
            logger.warning(
                "chaos: %s did not recover within %.0fs", service, self.recovery_timeout_s
            )
        self.figures.kills[service].append(took)

    def _settle_all(self) -> None:
        for service in list(self.pending):
            self._settle(service)

    def _recoveries(self, services: tuple[str, ...], since: float, before: dict[str, int]) -> dict:
        out: dict[str, float | None] = {}
        for service in services:
            seen = self.monitor.wait_advance(
                service, since, before[service], self.recovery_timeout_s
            )
            out[service] = None if seen is None else round(seen - since, 2)
        return out

    # -- broker ------------------------------------------------------------------------------

    def _broker_fault(self) -> None:
        exits_before = {s: len(p.exits) for s, p in self.supervisor.services.items()}
        killed = time.monotonic()
        self.broker.kill9()
        time.sleep(self.broker_down_s)
        self.broker.start()
        back = time.monotonic()
        before = self.monitor.poll_now()
        logger.info("chaos: broker back after %.1fs", back - killed)
        recovery = self._recoveries(SERVICES, back, before)
        self.figures.broker.append(
            {
                "down_s": round(back - killed, 2),
                "recovery_s": recovery,
                "service_exits": {
                    s: len(p.exits) - exits_before[s] for s, p in self.supervisor.services.items()
                },
            }
        )

    # -- store -------------------------------------------------------------------------------

    def _store_outage(self) -> None:
        at_start = self.monitor.poll_now()
        exits_before = {s: len(p.exits) for s, p in self.supervisor.services.items()}
        refused_before = self.proxy.refused
        began = time.monotonic()
        self.proxy.down()
        time.sleep(self.outage_s)
        self.proxy.up()
        ended = time.monotonic()
        at_end = self.monitor.poll_now()
        recovery = self._recoveries(STORE_SERVICES, ended, at_end)
        self.figures.outages.append(
            {
                "seconds": round(ended - began, 2),
                "connections_reset": self.proxy.refused - refused_before,
                "recovery_s": recovery,
                # Offsets a store service committed while its store was unreachable: output
                # claimed durable that could not have been written (should be 0 for sinks that
                # wrote during the outage window; reported, not judged).
                "committed_during_outage": {s: at_end[s] - at_start[s] for s in STORE_SERVICES},
                "service_exits": {
                    s: len(p.exits) - exits_before[s] for s, p in self.supervisor.services.items()
                },
            }
        )


def kill_report(figures: FaultFigures, supervisor: Supervisor, planned: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for service in SERVICES:
        times = figures.kills[service]
        proc = supervisor.services[service]
        out[service] = {
            "planned": planned,
            "done": len(times),
            "survived": sum(1 for t in times if t is not None),
            "recovery_s": summary([t for t in times if t is not None]),
            "unplanned_exits": len(proc.exits),
            "exit_reasons": proc.exits[:5],
        }
    return out
