"""The site's I/O shell: read the public store, build the site, write what changed.

Objects are put one by one with the store's atomic put (a temp file renamed into place for a
folder, a single PUT for S3), and only when their bytes differ from what this publisher last
wrote or the store holds: an unchanged page keeps its ETag and readers' caches stay valid.

`SiteRebuilder` runs builds off the caller's thread, debounced: `request()` returns at once,
and requests arriving while a build runs fold into one more build. The alerter calls it after
feeds change, the publisher after a release, so neither waits for charts to be drawn.
"""

from __future__ import annotations

import atexit
import logging
import threading
import time
from dataclasses import dataclass, field

from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.privacy.policy import Policy
from openbeat.store import ObjectStore, put_changed

logger = logging.getLogger(__name__)

SITE_CACHE_CONTROL = "public, max-age=60"


@dataclass
class SitePublisher:
    """Builds the site from `store` (the PUBLIC store) and writes it back to it."""

    store: ObjectStore
    jurisdiction: Jurisdiction
    policy: Policy
    written: dict[str, bytes] = field(default_factory=dict)
    writes: int = 0
    builds: int = 0

    def publish(self) -> list[str]:
        """Build and write every changed object; returns the keys written."""
        from openbeat.site.build import build_site, content_type  # pyarrow: load on use
        from openbeat.site.inputs import read_inputs

        inputs = read_inputs(self.store, self.jurisdiction, self.policy)
        objects = build_site(inputs)
        changed = [
            key
            for key in sorted(objects)
            if put_changed(
                self.store, self.written, key, objects[key], content_type(key), SITE_CACHE_CONTROL
            )
        ]
        self.writes += len(changed)
        self.builds += 1
        logger.info("site: %d of %d objects changed", len(changed), len(objects))
        return changed


_SHARED: dict[str, SiteRebuilder] = {}
_SHARED_LOCK = threading.Lock()


def shared_rebuilder(
    store: ObjectStore, jurisdiction: Jurisdiction, policy: Policy, delay_s: float = 2.0
) -> SiteRebuilder:
    """One rebuilder per public store in this process: the alerter and the publisher running
    side by side (`openbeat run`) share it, so two builds never race on the same pages."""
    key = store.url_for("index.html")
    with _SHARED_LOCK:
        rebuilder = _SHARED.get(key)
        if rebuilder is None or rebuilder.closed:
            rebuilder = SiteRebuilder(SitePublisher(store, jurisdiction, policy), delay_s)
            _SHARED[key] = rebuilder
            # A pending build finishes before the process exits (the thread is a daemon).
            atexit.register(rebuilder.close, 10)
        return rebuilder


class SiteRebuilder:
    """Debounced background builds of one SitePublisher (at most one build at a time)."""

    def __init__(self, publisher: SitePublisher, delay_s: float = 1.0) -> None:
        self.publisher = publisher
        self.delay_s = delay_s
        self.closed = False
        self._lock = threading.Lock()
        self._pending = False
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="site-rebuild", daemon=True)
        self._thread.start()

    def request(self) -> None:
        """Ask for a build; returns at once."""
        with self._lock:
            self._pending = True
            self._idle.clear()
        self._wake.set()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            with self._lock:
                if not self._pending:
                    if self.closed:
                        return
                    self._wake.clear()
                    continue
            time.sleep(self.delay_s)  # fold a burst of requests into one build
            with self._lock:
                self._pending = False
                self._wake.clear()
            try:
                self.publisher.publish()
            except Exception:  # a broken page must not stop the feeds; logged loudly
                logger.exception("site build failed")
            with self._lock:
                if not self._pending:
                    self._idle.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until no build is pending (True) or `timeout` passes (False)."""
        return self._idle.wait(timeout)

    def close(self, timeout: float | None = None) -> None:
        """Finish a pending build (waiting at most `timeout`), then stop the thread."""
        if self.closed:
            return
        self.wait(timeout)
        self.closed = True
        self._wake.set()
        self._thread.join(timeout)
