"""Metrics and health of real running services, scraped over HTTP.

The services run as `openbeat run` does in production (threads in one process, one metrics port);
the test reads what an operator's Prometheus would read, and the health endpoint turns unhealthy
while the store refuses connections and healthy again once it is back.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from test_metrics import free_port, healthz, scrape

from cli_helpers import REPO_ROOT, run_cli
from openbeat.runtime.clients import make_producer
from s3_fixtures import S3_TEST_ACCESS_KEY, S3_TEST_REGION, S3_TEST_SECRET_KEY

pytestmark = pytest.mark.integration

BAD = 7


def _start(env: dict[str, str], *services: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "openbeat.cli", "run", *services],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(check: Callable[[], bool], proc: subprocess.Popen[str], what: str) -> None:
    """Poll generously (a loaded machine is slow to join groups); fail only when it never comes."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"service exited while waiting for {what}: {proc.stderr.read()}")
        try:
            if check():
                return
        except OSError:  # the server is not listening yet
            pass
        time.sleep(0.5)
    raise AssertionError(f"never saw {what}")


def _stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGTERM)
    try:
        _, err = proc.communicate(timeout=90)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err


def test_running_services_serve_their_metrics(
    openbeat_env: dict[str, str], topic_names: Any, kafka_bootstrap: str
) -> None:
    port = free_port()
    env = {
        **openbeat_env,
        "OPENBEAT_METRICS_PORT": str(port),
        "OPENBEAT_COMMIT_INTERVAL_S": "0.5",
        "OPENBEAT_RELEASE_INTERVAL_S": "0",
        "OPENBEAT_ANONYMIZER_WORKERS": "0",
    }
    run_cli(env, "emit", "--sample", "200", "--seed", "3", "--no-progress")
    producer = make_producer(kafka_bootstrap, client_id="bad")
    for i in range(BAD):
        producer.send(topic_names.raw("incident"), key=f"RPD:bad{i}".encode(), value=b"junk")
    producer.flush()
    producer.close()
    proc = _start(env, "anonymizer", "publisher")
    try:
        a = (("service", "anonymizer"),)
        pub = (("service", "publisher"),)

        def done() -> bool:
            got = scrape(port)
            return (
                got.get(("openbeat_records_total", (("outcome", "dead_lettered"), *a))) == BAD
                and got.get(("openbeat_records_total", (("outcome", "absorbed"), *pub)), 0) > 0
                and got.get(("openbeat_consumer_lag", a)) == 0
            )

        _wait_for(done, proc, "every record counted")
        got = scrape(port)
        assert got[("openbeat_records_total", (("outcome", "published"), *a))] > 0
        assert got[("openbeat_dead_letters_total", (("reason", "not_single_object"), *a))] == BAD
        assert got[("openbeat_transactions_total", a)] > 0
        assert ("openbeat_transaction_aborts_total", a) in got
        assert ("openbeat_consumer_lag", pub) in got
        assert got[("openbeat_store_retries_total", ())] == 0
        assert healthz(port) == (200, {"status": "ok", "faults": []})
    finally:
        code, err = _stop(proc)
    assert code == 0, err[-3000:]


def test_health_is_503_while_the_store_refuses_and_200_once_it_is_back(
    openbeat_env: dict[str, str],
) -> None:
    import boto3
    from moto.server import ThreadedMotoServer

    metrics_port, s3_port = free_port(), free_port()
    bucket = f"health-{uuid.uuid4().hex[:10]}"
    endpoint = f"http://127.0.0.1:{s3_port}"
    # The bucket is made, then the server stopped: moto keeps its data in this process, so the
    # server started again later serves the same bucket (a store outage, not a store loss).
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
    server.start()
    boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=S3_TEST_ACCESS_KEY,
        aws_secret_access_key=S3_TEST_SECRET_KEY,
        region_name=S3_TEST_REGION,
    ).create_bucket(Bucket=bucket)
    server.stop()
    env = {
        **openbeat_env,
        "OPENBEAT_METRICS_PORT": str(metrics_port),
        "OPENBEAT_STORE": f"s3://{bucket}/root",
        # The aggregator writes only its checkpoint, which lives in the private store: put that on
        # the refusing endpoint too, else the service never meets the outage.
        "OPENBEAT_PRIVATE_STORE": f"s3://{bucket}/private",
        "OPENBEAT_S3_ENDPOINT": endpoint,
        "OPENBEAT_S3_ACCESS_KEY": S3_TEST_ACCESS_KEY,
        "OPENBEAT_S3_SECRET_KEY": S3_TEST_SECRET_KEY,
        "OPENBEAT_S3_REGION": S3_TEST_REGION,
        "OPENBEAT_PUBLIC_BASE_URL": "https://data.example.gov/openbeat",
    }
    proc = _start(env, "aggregator")
    restarted = None
    try:
        _wait_for(lambda: healthz(metrics_port)[0] == 503, proc, "an unhealthy /healthz")
        _, body = healthz(metrics_port)
        assert body["status"] == "unhealthy"
        assert any(f"s3://{bucket}" in f["detail"] for f in body["faults"])
        assert scrape(metrics_port)[("openbeat_store_retries_total", ())] >= 1

        restarted = ThreadedMotoServer(ip_address="127.0.0.1", port=s3_port, verbose=False)
        restarted.start()
        _wait_for(lambda: healthz(metrics_port)[0] == 200, proc, "a healthy /healthz again")
    finally:
        code, err = _stop(proc)
        if restarted is not None:
            restarted.stop()
    assert code == 0, err[-3000:]
