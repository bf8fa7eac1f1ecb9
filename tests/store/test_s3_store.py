"""S3 backend specifics: multipart uploads, retries with backoff, conditional-write fallback."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from openbeat.store import StoreUnavailable
from openbeat.store.s3 import S3Store


def _error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "PutObject",
    )


class FlakyClient:
    """Fails the first `failures` put_object calls with the given error, then records puts."""

    def __init__(self, failures: int, error: ClientError) -> None:
        self.failures = failures
        self.error = error
        self.puts: list[dict[str, Any]] = []
        self.heads: list[str] = []

    def put_object(self, **kwargs: Any) -> dict[str, Any]:
        if self.failures:
            self.failures -= 1
            raise self.error
        self.puts.append(kwargs)
        return {}

    def head_object(self, **kwargs: Any) -> dict[str, Any]:
        self.heads.append(kwargs["Key"])
        raise _error("404", 404)


def test_throttling_is_retried_until_it_succeeds() -> None:
    client = FlakyClient(failures=3, error=_error("SlowDown", 503))
    store = S3Store("b", "p", client=client, backoff_base_s=0.001, retry_deadline_s=10)
    assert store.put("a.json", b"{}", "application/json") is True
    assert len(client.puts) == 1
    assert client.puts[0]["Key"] == "p/a.json"


def test_persistent_5xx_becomes_store_unavailable() -> None:
    client = FlakyClient(failures=10**6, error=_error("InternalError", 500))
    store = S3Store("b", "", client=client, backoff_base_s=0.001, retry_deadline_s=0.2)
    with pytest.raises(StoreUnavailable):
        store.put("a.json", b"{}", "application/json")


def test_client_errors_are_not_retried() -> None:
    client = FlakyClient(failures=1, error=_error("AccessDenied", 403))
    store = S3Store("b", "", client=client, backoff_base_s=0.001)
    with pytest.raises(ClientError):
        store.put("a.json", b"{}", "application/json")
    assert client.puts == []


def test_if_absent_falls_back_to_head_then_put_without_conditional_writes() -> None:
    client = FlakyClient(failures=1, error=_error("NotImplemented", 501))
    store = S3Store("b", "", client=client, backoff_base_s=0.001)
    assert store.put("a.json", b"{}", "application/json", if_absent=True) is True
    assert client.heads == ["a.json"]
    assert "IfNoneMatch" not in client.puts[0]
    assert store.conditional_put is False


@pytest.mark.integration
def test_unreachable_endpoint_is_backpressure_not_a_crash() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = S3Store(
        "b",
        "",
        endpoint_url=f"http://127.0.0.1:{port}",
        access_key="x",
        secret_key="x",
        backoff_base_s=0.01,
        retry_deadline_s=0.5,
    )
    with pytest.raises(StoreUnavailable):
        store.put("a.json", b"{}", "application/json")


@pytest.mark.integration
def test_multipart_upload_is_atomic_and_conditional(
    s3_endpoint: str, s3_bucket: str, tmp_path: Path
) -> None:
    store = S3Store(
        s3_bucket,
        "m",
        endpoint_url=s3_endpoint,
        access_key="testing",
        secret_key="testing",
        multipart_threshold=6 * 1024 * 1024,
        part_size=5 * 1024 * 1024,
    )
    src = tmp_path / "big.bin"
    payload = (b"0123456789abcdef" * 65536) * 12  # 12 MiB: three parts
    src.write_bytes(payload)
    assert store.put_file("big/data.csv", src, "text/csv; charset=utf-8", if_absent=True)
    assert store.get("big/data.csv") == payload
    assert store.head("big/data.csv").content_type == "text/csv; charset=utf-8"
    other = tmp_path / "other.bin"
    other.write_bytes(b"x" * (7 * 1024 * 1024))
    assert not store.put_file("big/data.csv", other, "text/csv", if_absent=True)
    assert store.get("big/data.csv") == payload
