"""Prometheus metrics and a health endpoint for the services of one process.

With OPENBEAT_METRICS_PORT set (0 or unset: off), `openbeat run` serves on that port:

- `/metrics` (Prometheus text format, prometheus-client):
  `openbeat_records_total{service,outcome}` (anonymizer: published, restricted, superseded,
  dead_lettered; sinks: absorbed, dead_lettered), `openbeat_dead_letters_total{service,reason}`,
  `openbeat_consumer_lag{service}` (records between the service's positions and the end of its
  partitions), `openbeat_transactions_total{service}`, `openbeat_transaction_aborts_total
  {service}`, `openbeat_last_release_age_seconds` (publisher), `openbeat_releases_failed_total`
  (publisher: releases not published, e.g. refused by the release gate),
  `openbeat_last_feed_write_age_seconds` (alerter), `openbeat_store_retries_total`,
  `openbeat_faults` (faults in progress);
- `/healthz`: 200 while no fault is in progress, 503 while one is (a store call being retried,
  a service backing off from the broker); the JSON body names each fault.

Every value is read when scraped, from the counters the services keep anyway (a custom
collector): the hot path pays nothing for metrics but the lag probe, which reads the consumer's
own fetch positions (no broker request) once per LAG_INTERVAL_S on the loop thread.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from openbeat.runtime.health import HEALTH, Health

logger = logging.getLogger(__name__)

LAG_INTERVAL_S = 2.0


@dataclass
class ServiceView:
    """What the metrics read of one service: its loop's counters, its processor, its lag."""

    name: str
    stats: Any = None
    processor: Any = None
    letters: Any = None
    lag: int | None = None
    _next_lag: float = 0.0

    def attach(self, stats: Any, processor: Any, letters: Any = None) -> None:
        """Called by a loop when it starts (again, after a restart): read these from now on."""
        self.stats, self.processor, self.letters = stats, processor, letters

    def tick(self, consumer: Any) -> None:
        """Update the lag now and then, from positions the consumer already knows."""
        now = time.monotonic()
        if now < self._next_lag:
            return
        self._next_lag = now + LAG_INTERVAL_S
        try:
            lag = 0
            for tp in consumer.assignment():
                high = consumer.highwater(tp)
                if high is not None:  # fetched at least once, so the position is known
                    lag += max(0, high - consumer.position(tp))
            self.lag = lag
        except Exception:  # a probe must never stop the service; the lag just goes stale
            logger.debug("lag probe failed", exc_info=True)

    def outcomes(self) -> dict[str, int]:
        own = getattr(self.processor, "outcomes", None)
        if callable(own):
            return dict(own())
        consumed = self.stats.consumed if self.stats is not None else 0
        dead = self.letters.total if self.letters is not None else 0
        return {"absorbed": max(0, consumed - dead), "dead_lettered": dead}

    def dead_letters(self) -> dict[str, int]:
        if self.letters is not None:
            return dict(self.letters.by_reason)
        return dict(getattr(self.processor, "rejections", None) or {})


_VIEWS: dict[str, ServiceView] = {}
_VIEWS_LOCK = threading.Lock()


def service_view(name: str) -> ServiceView:
    """The view of service `name` in this process (made on first use)."""
    with _VIEWS_LOCK:
        return _VIEWS.setdefault(name, ServiceView(name))


class _Collector(Collector):
    def __init__(self, health: Health) -> None:
        self.health = health

    def collect(self) -> Iterator[Metric]:
        with _VIEWS_LOCK:
            views = list(_VIEWS.values())
        records = CounterMetricFamily(
            "openbeat_records", "Input records by outcome", labels=["service", "outcome"]
        )
        letters = CounterMetricFamily(
            "openbeat_dead_letters", "Dead letters by reason code", labels=["service", "reason"]
        )
        lag = GaugeMetricFamily(
            "openbeat_consumer_lag", "Records not consumed yet", labels=["service"]
        )
        transactions = CounterMetricFamily(
            "openbeat_transactions", "Committed transactions or commits", labels=["service"]
        )
        aborts = CounterMetricFamily(
            "openbeat_transaction_aborts", "Aborted transactions", labels=["service"]
        )
        release_age = GaugeMetricFamily(
            "openbeat_last_release_age_seconds", "Since the last release", labels=["service"]
        )
        failed = CounterMetricFamily(
            "openbeat_releases_failed", "Releases not published (gate or write)", labels=["service"]
        )
        feed_age = GaugeMetricFamily(
            "openbeat_last_feed_write_age_seconds", "Since a feed was written", labels=["service"]
        )
        now = time.time()
        for view in views:
            for outcome, count in sorted(view.outcomes().items()):
                records.add_metric([view.name, outcome], count)
            for reason, count in sorted(view.dead_letters().items()):
                letters.add_metric([view.name, reason], count)
            if view.lag is not None:
                lag.add_metric([view.name], view.lag)
            if view.stats is not None:
                transactions.add_metric([view.name], view.stats.transactions)
                aborts.add_metric([view.name], view.stats.aborted)
            released = getattr(view.processor, "last_release_at", None)
            if released is not None:
                release_age.add_metric([view.name], max(0.0, now - released))
            refused = getattr(view.processor, "releases_failed", None)
            if refused is not None:
                failed.add_metric([view.name], refused)
            written = getattr(view.processor, "last_feed_write_at", None)
            if written is not None:
                feed_age.add_metric([view.name], max(0.0, now - written))
        yield from (records, letters, lag, transactions, aborts, release_age, failed, feed_age)
        retries = CounterMetricFamily("openbeat_store_retries", "Store calls retried")
        retries.add_metric([], self.health.store_retries)
        yield retries
        faults = GaugeMetricFamily("openbeat_faults", "Faults in progress (0: healthy)")
        faults.add_metric([], len(self.health.faults()))
        yield faults


def make_registry(health: Health = HEALTH) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(health))
    return registry


def health_report(health: Health = HEALTH) -> tuple[int, bytes]:
    """(HTTP status, JSON body) of /healthz."""
    now = time.time()
    faults = [
        {"fault": key, "detail": detail, "for_seconds": round(now - since, 1)}
        for key, (detail, since) in sorted(health.faults().items())
    ]
    body = {"status": "unhealthy" if faults else "ok", "faults": faults}
    return (503 if faults else 200), json.dumps(body).encode() + b"\n"


def serve(port: int, host: str = "0.0.0.0", health: Health = HEALTH) -> ThreadingHTTPServer:
    """Serve /metrics and /healthz on a daemon thread; returns the server (shutdown() stops)."""
    registry = make_registry(health)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                status, body, kind = 200, generate_latest(registry), CONTENT_TYPE_LATEST
            elif path == "/healthz":
                status, body = health_report(health)
                kind = "application/json"
            else:
                status, body, kind = 404, b"try /metrics or /healthz\n", "text/plain"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("metrics: " + format, *args)

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    logger.info("metrics on http://%s:%d/metrics, health on /healthz", host, port)
    return server
