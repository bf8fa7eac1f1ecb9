"""Metrics and health served over HTTP, read back with Prometheus' own text parser."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from openbeat.runtime import metrics
from openbeat.runtime.health import Health
from openbeat.runtime.loop import LoopStats


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def healthz(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


class _Letters:
    def __init__(self) -> None:
        self.by_reason = {"malformed_avro": 2, "timestamp_out_of_range": 1}
        self.total = 3


class _Publisher:
    last_release_at = 1000.0
    releases_failed = 2


@pytest.fixture
def served() -> Iterator[tuple[int, Health]]:
    health = Health()
    port = free_port()
    server = metrics.serve(port, host="127.0.0.1", health=health)
    try:
        yield port, health
    finally:
        server.shutdown()
        metrics._VIEWS.clear()


def test_every_metric_of_a_sink_is_served(
    served: tuple[int, Health], monkeypatch: pytest.MonkeyPatch
) -> None:
    port, health = served
    stats = LoopStats(consumed=10, transactions=4, aborted=1)
    view = metrics.service_view("publisher")
    view.attach(stats, _Publisher(), _Letters())
    view.lag = 17
    health.store_retry()
    health.store_retry()
    monkeypatch.setattr(metrics.time, "time", lambda: 1060.0)

    got = scrape(port)

    p = (("service", "publisher"),)
    assert got[("openbeat_records_total", (("outcome", "absorbed"), *p))] == 7
    assert got[("openbeat_records_total", (("outcome", "dead_lettered"), *p))] == 3
    assert got[("openbeat_dead_letters_total", (("reason", "malformed_avro"), *p))] == 2
    assert got[("openbeat_consumer_lag", p)] == 17
    assert got[("openbeat_transactions_total", p)] == 4
    assert got[("openbeat_transaction_aborts_total", p)] == 1
    assert got[("openbeat_last_release_age_seconds", p)] == 60
    assert got[("openbeat_releases_failed_total", p)] == 2
    assert got[("openbeat_store_retries_total", ())] == 2
    assert got[("openbeat_faults", ())] == 0


def test_health_is_unhealthy_exactly_while_a_fault_lasts(served: tuple[int, Health]) -> None:
    port, health = served
    assert healthz(port) == (200, {"status": "ok", "faults": []})

    health.begin("store", "put of catalog/data.json failing: connection refused")
    status, body = healthz(port)
    assert status == 503 and body["status"] == "unhealthy"
    assert body["faults"][0]["detail"].startswith("put of catalog/data.json failing")
    assert scrape(port)[("openbeat_faults", ())] == 1

    health.end("store")
    assert healthz(port)[0] == 200


def test_the_lag_probe_reads_only_what_the_consumer_knows() -> None:
    class Consumer:
        def assignment(self) -> set[str]:
            return {"a", "b", "c"}

        def highwater(self, tp: str) -> int | None:
            return {"a": 100, "b": 5, "c": None}[tp]

        def position(self, tp: str) -> int:
            return {"a": 40, "b": 5}[tp]

    view = metrics.ServiceView("x")
    view.tick(Consumer())

    assert view.lag == 60
