"""Worker processes never outlive the service: closed normally, or when it is SIGKILLed."""

from __future__ import annotations

import operator
import os
import signal
import subprocess
import sys
import time

from openbeat.runtime.workers import PARENT_CHECK_S, ForkedWorkers

# A service that starts two workers, says their pids, and waits to be killed.
SERVICE = """
import operator, sys, time
from openbeat.runtime.workers import ForkedWorkers
workers = ForkedWorkers(2, 10, operator.add)
workers.start()
assert list(workers.map([1, 2, 3])) == [11, 12, 13]
print(" ".join(map(str, workers.pids)), flush=True)
time.sleep(120)
"""


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for init to reap it has exited)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _wait_gone(pids: list[int], timeout_s: float) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)
    return [p for p in pids if _alive(p)]


def test_workers_map_in_order_and_stop_on_close() -> None:
    workers = ForkedWorkers(2, 100, operator.add)
    workers.start()
    pids = list(workers.pids)
    assert len(pids) == 2 and all(_alive(p) for p in pids)
    assert list(workers.map(list(range(50)))) == [100 + i for i in range(50)]
    workers.close()
    assert _wait_gone(pids, 5) == []


def test_workers_exit_when_their_service_is_sigkilled() -> None:
    service = subprocess.Popen(
        [sys.executable, "-c", SERVICE], stdout=subprocess.PIPE, env={**os.environ}
    )
    try:
        assert service.stdout is not None
        pids = [int(p) for p in service.stdout.readline().split()]
        assert len(pids) == 2 and all(_alive(p) for p in pids)
        service.send_signal(signal.SIGKILL)
        service.wait(timeout=10)
        assert _wait_gone(pids, 10 * PARENT_CHECK_S + 2) == []
    finally:
        if service.poll() is None:
            service.kill()
