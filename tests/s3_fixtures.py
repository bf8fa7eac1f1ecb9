"""S3 fixtures: a moto server on a free loopback port (real HTTP), shared by the session.

`s3_endpoint` is the server's URL; `s3_bucket` gives each test a fresh, empty bucket so tests
never see each other's objects; `s3_store` is an `S3Store` on that bucket under a prefix.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

S3_TEST_ACCESS_KEY = "testing"
S3_TEST_SECRET_KEY = "testing"
S3_TEST_REGION = "us-east-1"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A moto S3 server in this process, speaking real HTTP on 127.0.0.1."""
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_client(s3_endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id=S3_TEST_ACCESS_KEY,
        aws_secret_access_key=S3_TEST_SECRET_KEY,
        region_name=S3_TEST_REGION,
    )


@pytest.fixture
def s3_bucket(s3_client: Any) -> str:
    """A new bucket for this test only."""
    name = f"openbeat-test-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_store(s3_endpoint: str, s3_bucket: str) -> Any:
    """An S3Store on this test's bucket, under a prefix (as deployments use one)."""
    from openbeat.store.s3 import S3Store

    return S3Store(
        s3_bucket,
        "openbeat/root",
        endpoint_url=s3_endpoint,
        access_key=S3_TEST_ACCESS_KEY,
        secret_key=S3_TEST_SECRET_KEY,
        region=S3_TEST_REGION,
        retry_deadline_s=5.0,
    )
