"""Object storage: one interface, a local-folder backend and an S3 backend with the same layout.

`open_store("var/store")` or `open_store("s3://bucket/prefix", endpoint_url=...)`; services open
the public root and the private store together with `open_stores(settings)` (store/layout.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from openbeat.store.base import (
    InvalidKey,
    ObjectInfo,
    ObjectNotFound,
    ObjectStore,
    StoreError,
    StoreUnavailable,
    guess_content_type,
    put_changed,
    validate_key,
)
from openbeat.store.layout import Stores, StoreSettingError, open_stores
from openbeat.store.local import LocalStore

if TYPE_CHECKING:
    from openbeat.runtime.settings import CommonSettings

__all__ = [
    "InvalidKey",
    "LocalStore",
    "ObjectInfo",
    "ObjectNotFound",
    "ObjectStore",
    "StoreError",
    "StoreSettingError",
    "StoreUnavailable",
    "Stores",
    "guess_content_type",
    "open_store",
    "open_store_from_settings",
    "open_stores",
    "put_changed",
    "validate_key",
]


def open_store(
    url: str | Path,
    *,
    endpoint_url: str | None = None,
    access_key: str | None = None,
    secret_key: str | None = None,
    region: str = "us-east-1",
    retry_deadline_s: float = 300.0,
) -> ObjectStore:
    """A store for `url`: `s3://bucket[/prefix]` or a local folder path (created if missing)."""
    text = str(url)
    if text.startswith("s3://"):
        from openbeat.store.s3 import S3Store  # boto3 is imported only when S3 is used

        bucket, _, prefix = text[len("s3://") :].partition("/")
        if not bucket:
            raise ValueError(f"store URL {text!r} names no bucket")
        return S3Store(
            bucket,
            prefix,
            endpoint_url=endpoint_url,
            access_key=access_key,
            secret_key=secret_key,
            region=region,
            retry_deadline_s=retry_deadline_s,
        )
    if "://" in text and not text.startswith("file://"):
        raise ValueError(f"store URL {text!r}: only a folder, file:// or s3:// is supported")
    return LocalStore(Path(text.removeprefix("file://")))


def open_store_from_settings(settings: CommonSettings, url: str | None = None) -> ObjectStore:
    """The public store the OPENBEAT_STORE / OPENBEAT_S3_* settings describe (or `url` with the
    same S3 credentials and endpoint); errors name OPENBEAT_STORE. Services that also keep
    private state use `open_stores`."""
    from openbeat.store.layout import open_public_store

    return open_public_store(settings, url)
