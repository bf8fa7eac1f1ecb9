"""What faults this process is living through right now, for the health endpoint and metrics.

A fault is transient by definition here (a store call being retried, a broker that does not
answer while a service backs off): the service keeps running and retrying, and the operator
sees it as an unhealthy `/healthz` (runtime.metrics) until it is over. Whoever retries says
when a fault starts and ends; `HEALTH` is the one process-wide record of them.

Kept free of any other openbeat import, so the store and the runtime can both report to it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

logger = logging.getLogger(__name__)


class Health:
    """Faults in progress (by key) and how many store calls were retried; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: dict[str, tuple[str, float]] = {}
        self._store_retries = 0

    def begin(self, key: str, description: str) -> None:
        """A fault started (or is still going on, with a newer description)."""
        with self._lock:
            since = self._faults.get(key, (description, time.time()))[1]
            self._faults[key] = (description, since)

    def end(self, key: str) -> None:
        with self._lock:
            self._faults.pop(key, None)

    @contextmanager
    def watching(self, key: str) -> Iterator[None]:
        """Ends fault `key` when the block is left, however it is left."""
        try:
            yield
        finally:
            self.end(key)

    def faults(self) -> dict[str, tuple[str, float]]:
        """key -> (description, wall-clock start) of every fault in progress."""
        with self._lock:
            return dict(self._faults)

    @property
    def healthy(self) -> bool:
        with self._lock:
            return not self._faults

    def store_retry(self) -> None:
        with self._lock:
            self._store_retries += 1

    @property
    def store_retries(self) -> int:
        with self._lock:
            return self._store_retries


HEALTH = Health()
