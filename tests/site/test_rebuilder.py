"""The background rebuilder: requests return at once, a burst folds into few builds, a failed
build does not stop later ones, and closing finishes the pending build."""

from __future__ import annotations

import threading
from typing import Any

from openbeat.site.publisher import SiteRebuilder


class _Counting:
    def __init__(self, fail_first: bool = False) -> None:
        self.builds = 0
        self.fail_first = fail_first
        self.release = threading.Event()
        self.release.set()

    def publish(self) -> list[str]:
        self.release.wait()
        self.builds += 1
        if self.fail_first and self.builds == 1:
            raise RuntimeError("chart library exploded")
        return []


def _rebuilder(publisher: Any) -> SiteRebuilder:
    return SiteRebuilder(publisher, delay_s=0.05)  # type: ignore[arg-type]


def test_a_burst_of_requests_folds_into_few_builds() -> None:
    publisher = _Counting()
    rebuilder = _rebuilder(publisher)
    for _ in range(50):
        rebuilder.request()
    rebuilder.close(timeout=30)
    assert 1 <= publisher.builds <= 2


def test_a_failed_build_does_not_stop_the_next() -> None:
    publisher = _Counting(fail_first=True)
    rebuilder = _rebuilder(publisher)
    rebuilder.request()
    assert rebuilder.wait(timeout=30)
    rebuilder.request()
    rebuilder.close(timeout=30)
    assert publisher.builds == 2


def test_close_finishes_the_pending_build() -> None:
    publisher = _Counting()
    publisher.release.clear()
    rebuilder = _rebuilder(publisher)
    rebuilder.request()
    threading.Timer(0.2, publisher.release.set).start()
    rebuilder.close(timeout=30)
    assert publisher.builds == 1


def test_closing_when_idle_builds_nothing() -> None:
    publisher = _Counting()
    _rebuilder(publisher).close(timeout=30)
    assert publisher.builds == 0
