"""A store that drops connections is retried (store layer, one place), never fatal.

Real HTTP: the moto server behind a proxy (tests/fault_proxy.py) that resets every connection
while the outage lasts, as a crashing S3 front end or a dropping load balancer does.
"""

from __future__ import annotations

import threading
import time
from typing import Any
from urllib.parse import urlparse

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ConnectionClosedError

from fault_proxy import FaultProxy
from openbeat.runtime.health import HEALTH
from openbeat.store.s3 import S3Store
from s3_fixtures import S3_TEST_ACCESS_KEY, S3_TEST_REGION, S3_TEST_SECRET_KEY


@pytest.fixture
def proxy(s3_endpoint: str) -> Any:
    proxy = FaultProxy(int(urlparse(s3_endpoint).port or 0))
    yield proxy
    proxy.close()


def _store(url: str, bucket: str) -> S3Store:
    return S3Store(
        bucket,
        "root",
        endpoint_url=url,
        access_key=S3_TEST_ACCESS_KEY,
        secret_key=S3_TEST_SECRET_KEY,
        region=S3_TEST_REGION,
        retry_deadline_s=60.0,
        backoff_base_s=0.05,
        backoff_max_s=0.3,
    )


def test_the_proxy_makes_botocore_see_connection_closed(proxy: FaultProxy, s3_bucket: str) -> None:
    """The fault the next test survives is the one of the issue (not a refused connection)."""
    client = boto3.client(
        "s3",
        endpoint_url=proxy.url,
        aws_access_key_id=S3_TEST_ACCESS_KEY,
        aws_secret_access_key=S3_TEST_SECRET_KEY,
        region_name=S3_TEST_REGION,
        config=Config(retries={"max_attempts": 1}),
    )
    proxy.resetting = True
    with pytest.raises(ConnectionClosedError):
        client.put_object(Bucket=s3_bucket, Key="k", Body=b"x")


def test_connections_reset_mid_request_are_retried_until_the_store_is_back(
    proxy: FaultProxy, s3_bucket: str
) -> None:
    store = _store(proxy.url, s3_bucket)
    store.put("before.json", b"{}", "application/json")
    retries = HEALTH.store_retries
    proxy.resetting = True
    outcome: dict[str, Any] = {}
    unhealthy: list[bool] = []

    def write() -> None:
        try:
            outcome["put"] = store.put("during.json", b'{"a": 1}', "application/json")
            outcome["get"] = store.get("before.json")
        except BaseException as exc:  # the test fails on it below
            outcome["error"] = exc

    worker = threading.Thread(target=write)
    worker.start()
    deadline = time.monotonic() + 10
    while proxy.resets < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    unhealthy.append(not HEALTH.healthy)
    proxy.resetting = False
    worker.join(30)

    assert "error" not in outcome, outcome.get("error")
    assert outcome == {"put": True, "get": b"{}"}
    assert proxy.resets >= 6
    assert HEALTH.store_retries > retries
    assert unhealthy == [True], "health must say unhealthy while the store is failing"
    assert HEALTH.healthy
    assert store.get("during.json") == b'{"a": 1}'
