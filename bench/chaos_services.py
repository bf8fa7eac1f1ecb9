"""The chaos run's moving parts: the services as real `openbeat run` subprocesses (killed and
restarted by a supervisor), a steady emitter, and a progress monitor reading the consumer
groups' committed offsets.

Progress is what the services have made durable: a consumer group's committed offsets (the
anonymizer commits them in its transactions, the sinks only after their output is in the store).
"Recovered" after a fault means the group's committed offsets moved past where they were.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from openbeat.contracts.codec import KIND_SCHEMAS, SchemaStore
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.emit.producer import event_key
from openbeat.emit.sample import generate_sample
from openbeat.runtime.topics import TopicNames

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
SERVICES = ("anonymizer", "aggregator", "publisher", "alerter")


@dataclass
class ServiceProc:
    """One `openbeat run <name>` child, in its own process group (so nothing it forks leaks)."""

    name: str
    env: dict[str, str]
    log: Path
    proc: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    starts: int = 0
    killed: bool = False  # the harness SIGKILLed the current process
    exits: list[str] = field(default_factory=list)  # unplanned exits: code and last log line

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            out.write(f"\n=== start {self.starts + 1} at {time.time():.1f}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "openbeat.cli", "run", self.name],
                env=self.env,
                cwd=REPO,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started_at = time.monotonic()
        self.starts += 1
        self.killed = False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL the service process alone (its workers must notice on their own)."""
        assert self.proc is not None
        self.killed = True
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self, timeout: float = 60) -> int | None:
        """SIGTERM (the graceful path: a final flush and commit), then SIGKILL if it hangs."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reap_group()
        return self.proc.returncode

    def reap_group(self) -> None:
        """Kill whatever is left in this child's process group (orphaned workers)."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)

    def last_line(self) -> str:
        try:
            lines = self.log.read_text(errors="replace").strip().splitlines()
        except OSError:
            return ""
        return lines[-1][:300] if lines else ""


class Supervisor(threading.Thread):
    """Restarts every service that is not running: at once after a planned kill, after a short
    pause after an unplanned exit (recorded with its last log line, as an operator's process
    manager would)."""

    def __init__(self, services: dict[str, ServiceProc], restart_delay_s: float = 1.0) -> None:
        super().__init__(name="chaos-supervisor", daemon=True)
        self.services = services
        self.restart_delay_s = restart_delay_s
        self.halt = threading.Event()
        self.lock = threading.Lock()

    def run(self) -> None:
        while not self.halt.wait(0.2):
            with self.lock:
                for svc in self.services.values():
                    if svc.alive():
                        continue
                    if not svc.killed:
                        assert svc.proc is not None
                        svc.exits.append(f"exit {svc.proc.returncode}: {svc.last_line()}")
                        logger.warning("%s exited on its own: %s", svc.name, svc.exits[-1])
                        svc.reap_group()
                        time.sleep(self.restart_delay_s)
                    svc.reap_group()
                    svc.start()

    def kill(self, name: str) -> float:
        """SIGKILL one service and restart it at once; returns the restart time (monotonic)."""
        with self.lock:
            svc = self.services[name]
            if svc.alive():
                svc.kill()
            svc.reap_group()
            svc.start()
            return svc.started_at


class ProgressMonitor(threading.Thread):
    """Polls each service group's committed offsets (summed over partitions) once a second."""

    def __init__(self, bootstrap: str, namespace: str) -> None:
        super().__init__(name="chaos-progress", daemon=True)
        self.bootstrap = bootstrap
        self.groups = {name: f"{namespace}-{name}" for name in SERVICES}
        self.committed: dict[str, int] = dict.fromkeys(SERVICES, -1)
        # (monotonic time, service, committed sum) every time a sum moves
        self.history: deque[tuple[float, str, int]] = deque(maxlen=100_000)
        self.halt = threading.Event()
        self._admin: Any = None
        self._lock = threading.Lock()
        self._next_report = 0.0

    def run(self) -> None:
        while not self.halt.wait(1.0):
            try:
                self._poll()
            except Exception as exc:  # the broker may be down: try again next second
                logger.debug("progress poll failed: %s", exc)
                self._close()

    def poll_now(self, timeout: float = 600) -> dict[str, int]:
        """The committed sums read now (retried until the broker answers): the baseline after a
        fault, which the monitor's last poll (up to a second old) is not."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                self._poll()
                return dict(self.committed)
            except Exception:
                self._close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def _poll(self) -> None:
        with self._lock:
            self._poll_locked()

    def _poll_locked(self) -> None:
        from kafka.admin import KafkaAdminClient

        if self._admin is None:
            self._admin = KafkaAdminClient(
                bootstrap_servers=self.bootstrap,
                client_id="chaos-monitor",
                request_timeout_ms=5000,
            )
        found = self._admin.list_group_offsets(dict.fromkeys(self.groups.values()))
        for name, group in self.groups.items():
            offsets = found.get(group) or {}
            total = sum(max(0, o.offset or 0) for o in offsets.values() if o is not None)
            if total != self.committed[name]:
                self.committed[name] = total
                self.history.append((time.monotonic(), name, total))
        if time.monotonic() >= self._next_report:
            self._next_report = time.monotonic() + 30
            logger.info("committed offsets: %s", self.committed)

    def _close(self) -> None:
        if self._admin is not None:
            with contextlib.suppress(Exception):
                self._admin.close()
            self._admin = None

    def snapshot(self) -> list[tuple[float, str, int]]:
        """The history as of now (the monitor thread appends to it while others read)."""
        with self._lock:
            return list(self.history)

    def advanced_since(self, name: str, since: float, beyond: int) -> float | None:
        """First time after `since` at which `name`'s committed sum exceeded `beyond`."""
        for t, who, total in self.snapshot():
            if who == name and t >= since and total > beyond:
                return t
        return None

    def wait_advance(self, name: str, since: float, beyond: int, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.advanced_since(name, since, beyond)
            if found is not None:
                return found
            time.sleep(0.5)
        return None


class SteadyEmitter(threading.Thread):
    """Sends sample events at a steady rate until stopped. A send the broker did not take
    (while it was down) is sent again later: the input is whatever the raw topics end up
    holding, and the clean run is fed a copy of exactly that."""

    def __init__(
        self, bootstrap: str, names: TopicNames, rate: float, seed: int, now: datetime
    ) -> None:
        super().__init__(name="chaos-emitter", daemon=True)
        self.bootstrap, self.names, self.rate = bootstrap, names, rate
        self.halt = threading.Event()
        self.abort = threading.Event()  # halt without waiting for what is still in flight
        self.sent = 0
        self.acked = 0
        self.resent = 0
        self._retry: deque[tuple[str, bytes, bytes]] = deque()
        self._source = self._encoded(seed, now)

    def _encoded(self, seed: int, now: datetime) -> Iterator[tuple[str, bytes, bytes]]:
        schemas = SchemaStore.load()
        jurisdiction = load_jurisdiction("sample")
        for kind, record in generate_sample(10_000_000, seed, jurisdiction, now):
            value = schemas.encode(KIND_SCHEMAS[kind], record)
            yield self.names.raw(kind), event_key(kind, record), value

    def run(self) -> None:
        from kafka import KafkaProducer

        producer = KafkaProducer(
            bootstrap_servers=self.bootstrap,
            client_id="chaos-emitter",
            acks="all",
            linger_ms=20,
            retries=2**31 - 1,
            delivery_timeout_ms=120_000,
            request_timeout_ms=10_000,
        )
        started = time.monotonic()
        try:
            while not self.halt.is_set():
                due = int((time.monotonic() - started) * self.rate)
                while self.sent < due and not self.halt.is_set():
                    self._send(
                        producer, self._retry.popleft() if self._retry else next(self._source)
                    )
                time.sleep(0.05)
            producer.flush(timeout=5 if self.abort.is_set() else 180)
            while self._retry and not self.abort.is_set():  # sends that failed at the end
                self._send(producer, self._retry.popleft())
                producer.flush(timeout=180)
        finally:
            producer.close(timeout=1 if self.abort.is_set() else 30)

    def _send(self, producer: Any, message: tuple[str, bytes, bytes]) -> None:
        topic, key, value = message
        future = producer.send(topic, key=key, value=value)
        future.add_callback(self._acked)
        future.add_errback(self._failed, message)
        self.sent += 1

    def _acked(self, _metadata: Any) -> None:
        self.acked += 1

    def _failed(self, message: tuple[str, bytes, bytes], _error: Any) -> None:
        self.resent += 1
        self.sent -= 1  # not in the topic: it counts again when it is sent again
        self._retry.append(message)
