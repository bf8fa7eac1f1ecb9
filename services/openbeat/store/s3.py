"""An S3 bucket prefix (AWS, MinIO, Ceph, ...) as an object store, via boto3.

Every call is retried with exponential backoff on throttling (SlowDown), 5xx answers and
connection errors (refused, closed or reset mid-request, timeouts) until a deadline; only then
does it raise `StoreUnavailable`. This is the one place store calls are retried. A slow or
briefly absent store so becomes backpressure (the caller waits, offsets stay uncommitted)
instead of a crash; a longer outage ends the service's loop with `StoreUnavailable`, which its
supervisor (runtime.supervise) restarts with back-off for as long as the outage lasts.

Create-if-absent uses a conditional write (`If-None-Match: *`, supported by S3 since 2024, MinIO
and moto); if the server rejects the header as not implemented the store falls back to
head-then-put, which is only safe with a single writer per key (the publisher's case).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    IncompleteReadError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from urllib3.exceptions import HTTPError as Urllib3Error

from openbeat.runtime.health import HEALTH
from openbeat.store.base import (
    ObjectInfo,
    ObjectNotFound,
    StoreError,
    StoreUnavailable,
    validate_key,
    validate_prefix,
)

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Error codes S3 and its clones use for "slow down, try again".
_THROTTLE_CODES = frozenset(
    {
        "SlowDown",
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "RequestTimeout",
        "RequestTimeTooSkewed",
        "ServiceUnavailable",
        "InternalError",
        "ConditionalRequestConflict",
    }
)
_NOT_FOUND_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_PRECONDITION_CODES = frozenset({"412", "PreconditionFailed"})
_NOT_IMPLEMENTED_CODES = frozenset({"501", "NotImplemented"})

# S3 requires parts of at least 5 MiB (except the last); 16 MiB keeps a 1 GiB file at 64 parts.
DEFAULT_PART_SIZE = 16 * 1024 * 1024
# Below this a file is sent in one PUT (read into memory once): simpler and one request.
DEFAULT_MULTIPART_THRESHOLD = 64 * 1024 * 1024


class S3Store:
    """Objects under `s3://bucket/prefix/`; `key` maps to `prefix + key`."""

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        endpoint_url: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str = "us-east-1",
        retry_deadline_s: float = 300.0,
        backoff_base_s: float = 0.2,
        backoff_max_s: float = 20.0,
        multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD,
        part_size: int = DEFAULT_PART_SIZE,
        conditional_put: bool = True,
        client: Any = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        if self.prefix:
            validate_prefix(self.prefix)
        self.endpoint_url = endpoint_url
        self.region = region
        self.retry_deadline_s = retry_deadline_s
        self.backoff_base_s = backoff_base_s
        self.backoff_max_s = backoff_max_s
        self.multipart_threshold = multipart_threshold
        self.part_size = part_size
        self.conditional_put = conditional_put
        if client is None:
            config = Config(
                # botocore's own retries cover quick blips; our loop covers long outages.
                retries={"max_attempts": 3, "mode": "standard"},
                connect_timeout=10,
                read_timeout=60,
                s3={"addressing_style": "path"} if endpoint_url else None,
            )
            client = boto3.client(
                "s3",
                endpoint_url=endpoint_url,
                aws_access_key_id=access_key,
                aws_secret_access_key=secret_key,
                region_name=region,
                config=config,
            )
        self.client = client

    def __repr__(self) -> str:
        return f"S3Store('s3://{self.bucket}/{self.prefix}')"

    def _full(self, key: str) -> str:
        return self.prefix + validate_key(key)

    # -- retries -------------------------------------------------------------------------------

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Run `fn`, retrying transient failures with jittered exponential backoff.

        While it retries, the process is unhealthy (runtime.health: /healthz says 503 and names
        the call); every retry counts in openbeat_store_retries_total.
        """
        fault = f"store:{id(self):x}:{threading.get_ident()}"
        with HEALTH.watching(fault):
            return self._retrying(what, fn, fault)

    def _retrying(self, what: str, fn: Callable[[], T], fault: str) -> T:
        deadline = time.monotonic() + self.retry_deadline_s
        attempt = 0
        while True:
            try:
                return fn()
            except ClientError as exc:
                if not _is_transient(exc):
                    raise
                error: Exception = exc
            except (BotoCoreError, Urllib3Error, ConnectionError) as exc:
                if not _is_transient_core(exc):
                    raise
                error = exc
            attempt += 1
            delay = min(self.backoff_max_s, self.backoff_base_s * 2**attempt)
            delay *= 0.5 + random.random() / 2
            if time.monotonic() + delay > deadline:
                raise StoreUnavailable(
                    f"{what} on s3://{self.bucket}/{self.prefix} still failing after "
                    f"{attempt} attempts: {error}"
                ) from error
            logger.warning("%s failed (%s); retry %d in %.1f s", what, error, attempt, delay)
            HEALTH.store_retry()
            HEALTH.begin(
                fault,
                f"{what} on s3://{self.bucket}/{self.prefix} failing, retry {attempt}: {error}",
            )
            time.sleep(delay)

    # -- writes --------------------------------------------------------------------------------

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str,
        cache_control: str | None = None,
        if_absent: bool = False,
    ) -> bool:
        full = self._full(key)
        args: dict[str, Any] = {
            "Bucket": self.bucket,
            "Key": full,
            "Body": data,
            "ContentType": content_type,
        }
        if cache_control:
            args["CacheControl"] = cache_control
        if not if_absent:
            self._call(f"put {full}", lambda: self.client.put_object(**args))
            return True
        if self.conditional_put:
            try:
                self._call(f"put {full}", lambda: self.client.put_object(IfNoneMatch="*", **args))
                return True
            except ClientError as exc:
                code = _code(exc)
                if code in _PRECONDITION_CODES:
                    return False
                if code not in _NOT_IMPLEMENTED_CODES:
                    raise
                logger.warning("%s: no conditional writes; falling back to head-then-put", self)
                self.conditional_put = False
        if self.exists(key):
            return False
        self._call(f"put {full}", lambda: self.client.put_object(**args))
        return True

    def put_file(
        self,
        key: str,
        path: Path,
        content_type: str,
        cache_control: str | None = None,
        if_absent: bool = False,
    ) -> bool:
        size = Path(path).stat().st_size
        if size <= self.multipart_threshold:
            return self.put(key, Path(path).read_bytes(), content_type, cache_control, if_absent)
        if if_absent and (not self.conditional_put) and self.exists(key):
            return False
        return self._multipart(key, Path(path), content_type, cache_control, if_absent)

    def _multipart(
        self, key: str, path: Path, content_type: str, cache_control: str | None, if_absent: bool
    ) -> bool:
        """Upload in parts of `part_size` (RAM: one part); the object appears only at completion.

        With `if_absent` the completion carries `If-None-Match: *`, so the create stays atomic.
        """
        full = self._full(key)
        create: dict[str, Any] = {"Bucket": self.bucket, "Key": full, "ContentType": content_type}
        if cache_control:
            create["CacheControl"] = cache_control
        upload_id = self._call(
            f"start upload {full}", lambda: self.client.create_multipart_upload(**create)
        )["UploadId"]
        try:
            parts = []
            with open(path, "rb") as fh:
                number = 1
                while chunk := fh.read(self.part_size):
                    n = number
                    response = self._call(
                        f"upload part {n} of {full}",
                        lambda c=chunk, n=n: self.client.upload_part(  # type: ignore[misc]
                            Bucket=self.bucket, Key=full, UploadId=upload_id, PartNumber=n, Body=c
                        ),
                    )
                    parts.append({"ETag": response["ETag"], "PartNumber": n})
                    number += 1
            complete: dict[str, Any] = {
                "Bucket": self.bucket,
                "Key": full,
                "UploadId": upload_id,
                "MultipartUpload": {"Parts": parts},
            }
            if if_absent and self.conditional_put:
                complete["IfNoneMatch"] = "*"
            try:
                self._call(
                    f"complete upload {full}",
                    lambda: self.client.complete_multipart_upload(**complete),
                )
            except ClientError as exc:
                if _code(exc) in _PRECONDITION_CODES:
                    self._abort(full, upload_id)
                    return False
                raise
            return True
        except BaseException:
            self._abort(full, upload_id)
            raise

    def _abort(self, full: str, upload_id: str) -> None:
        try:
            self.client.abort_multipart_upload(Bucket=self.bucket, Key=full, UploadId=upload_id)
        except (ClientError, BotoCoreError) as exc:
            # The bucket's lifecycle rule for incomplete uploads cleans up what is left.
            logger.warning("could not abort upload of %s: %s", full, exc)

    # -- reads ---------------------------------------------------------------------------------

    def get(self, key: str) -> bytes:
        full = self._full(key)

        def fetch() -> bytes:
            body = self.client.get_object(Bucket=self.bucket, Key=full)["Body"]
            return bytes(body.read())

        try:
            return self._call(f"get {full}", fetch)
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND_CODES:
                raise ObjectNotFound(key) from None
            raise StoreError(f"get {full}: {exc}") from exc

    def download(self, key: str, path: Path) -> None:
        full = self._full(key)

        def fetch() -> None:
            body = self.client.get_object(Bucket=self.bucket, Key=full)["Body"]
            with open(path, "wb") as fh:
                for chunk in body.iter_chunks(1024 * 1024):
                    fh.write(chunk)

        try:
            self._call(f"download {full}", fetch)
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND_CODES:
                raise ObjectNotFound(key) from None
            raise StoreError(f"download {full}: {exc}") from exc

    def exists(self, key: str) -> bool:
        try:
            self.head(key)
        except ObjectNotFound:
            return False
        return True

    def list(self, prefix: str = "") -> list[str]:
        validate_prefix(prefix)
        full = self.prefix + prefix

        def fetch() -> list[str]:
            keys: list[str] = []
            paginator = self.client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=self.bucket, Prefix=full):
                keys.extend(obj["Key"][len(self.prefix) :] for obj in page.get("Contents", []))
            return keys

        return sorted(self._call(f"list {full}", fetch))

    def delete(self, key: str) -> None:
        full = self._full(key)
        self._call(
            f"delete {full}", lambda: self.client.delete_object(Bucket=self.bucket, Key=full)
        )

    def head(self, key: str) -> ObjectInfo:
        full = self._full(key)
        try:
            meta = self._call(
                f"head {full}", lambda: self.client.head_object(Bucket=self.bucket, Key=full)
            )
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND_CODES:
                raise ObjectNotFound(key) from None
            raise StoreError(f"head {full}: {exc}") from exc
        return ObjectInfo(
            key=key,
            size=int(meta["ContentLength"]),
            etag=str(meta.get("ETag", "")).strip('"'),
            content_type=str(meta.get("ContentType", "")),
            cache_control=meta.get("CacheControl"),
        )

    def url_for(self, key: str) -> str:
        full = self._full(key)
        if self.endpoint_url:
            return f"{self.endpoint_url.rstrip('/')}/{self.bucket}/{full}"
        return f"https://{self.bucket}.s3.{self.region}.amazonaws.com/{full}"


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _is_transient(exc: ClientError) -> bool:
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    code = _code(exc)
    if code in _NOT_IMPLEMENTED_CODES:
        return False
    return code in _THROTTLE_CODES or status == 429 or status >= 500


def _is_transient_core(exc: Exception) -> bool:
    """Connection-level failures are worth retrying: refused (EndpointConnectionError), closed
    or reset mid-request (ConnectionClosedError, a body cut short), timeouts (ReadTimeoutError).
    Credentials and parameter errors are not."""
    transient = (
        BotoConnectionError,
        HTTPClientError,
        IncompleteReadError,
        Urllib3Error,
        ConnectionError,
    )
    return isinstance(exc, transient) or "timeout" in type(exc).__name__.lower()
