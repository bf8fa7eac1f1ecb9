"""The object store interface every backend implements, and the key rules they share.

Keys are `/`-separated relative paths (`datasets/incidents/latest.json`). The same key names the
same bytes in every backend, so a local folder and an S3 prefix hold an identical layout. Keys
are validated before any I/O: nothing built from event data can steer a write outside the root.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

# S3 caps keys at 1024 bytes of UTF-8; keeping the same cap locally keeps the layouts identical.
MAX_KEY_BYTES = 1024

# Control characters have no place in a key: they break logs, URLs and some file systems.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DRIVE = re.compile(r"^[A-Za-z]:")

# Content types by file suffix, used when a caller does not say and by the local backend when a
# sidecar is missing (an object copied into the folder by hand).
CONTENT_TYPES: dict[str, str] = {
    ".parquet": "application/vnd.apache.parquet",
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json",
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".avro": "application/avro",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}
DEFAULT_CONTENT_TYPE = "application/octet-stream"


class StoreError(RuntimeError):
    """A store operation failed for a reason other than a missing object."""


class StoreUnavailable(StoreError):
    """The store kept failing (throttling, 5xx, connection errors) past the retry deadline.

    Callers treat this as backpressure: do not commit input offsets, wait, try again later.
    """


class InvalidKey(ValueError):
    """A key that could escape the store root or is otherwise unusable."""


class ObjectNotFound(KeyError):
    """No object under this key."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key

    def __str__(self) -> str:
        return f"no object {self.key!r}"


@dataclass(frozen=True)
class ObjectInfo:
    """What `head` tells about an object."""

    key: str
    size: int
    etag: str
    content_type: str
    cache_control: str | None


def guess_content_type(key: str) -> str:
    """The content type the layout uses for a key's suffix (application/octet-stream if unknown)."""
    return CONTENT_TYPES.get(Path(key).suffix.lower(), DEFAULT_CONTENT_TYPE)


def validate_key(key: str) -> str:
    """Return `key` if it is a safe relative object key, else raise `InvalidKey`.

    Rejected: empty keys, absolute paths, backslashes, NUL and other control characters, empty
    segments (`a//b`, trailing `/`), and any segment starting with a dot (`.`, `..`, hidden
    names; the local backend keeps its metadata in a dot folder).
    """
    if not isinstance(key, str) or not key:
        raise InvalidKey("object key must be a non-empty string")
    if _CONTROL.search(key):
        raise InvalidKey(f"object key {key!r} contains a control character")
    if "\\" in key:
        raise InvalidKey(f"object key {key!r} contains a backslash")
    if key.startswith("/"):
        raise InvalidKey(f"object key {key!r} is absolute")
    if len(key.encode("utf-8")) > MAX_KEY_BYTES:
        raise InvalidKey(f"object key is longer than {MAX_KEY_BYTES} bytes")
    if _DRIVE.match(key):
        # A Windows drive letter (`C:`) would make the local path absolute there.
        raise InvalidKey(f"object key {key!r} starts with a drive letter")
    for segment in key.split("/"):
        if not segment:
            raise InvalidKey(f"object key {key!r} has an empty path segment")
        if segment.startswith("."):
            raise InvalidKey(f"object key {key!r} has a segment starting with '.'")
    return key


def validate_prefix(prefix: str) -> str:
    """A listing prefix: empty, or a key-like string that may end with `/`."""
    if prefix == "":
        return prefix
    validate_key(prefix[:-1] if prefix.endswith("/") else prefix)
    return prefix


@runtime_checkable
class ObjectStore(Protocol):
    """A flat namespace of immutable-by-convention objects (a folder or an S3 prefix)."""

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str,
        cache_control: str | None = None,
        if_absent: bool = False,
    ) -> bool:
        """Store `data` under `key`; with `if_absent`, do nothing and return False if it exists."""
        ...

    def put_file(
        self,
        key: str,
        path: Path,
        content_type: str,
        cache_control: str | None = None,
        if_absent: bool = False,
    ) -> bool:
        """Like `put`, streaming a local file (multipart on S3) so big files need little RAM."""
        ...

    def get(self, key: str) -> bytes:
        """The object's bytes; `ObjectNotFound` if absent."""
        ...

    def download(self, key: str, path: Path) -> None:
        """Stream the object into a local file; `ObjectNotFound` if absent."""
        ...

    def exists(self, key: str) -> bool: ...

    def list(self, prefix: str = "") -> list[str]:
        """Every key starting with `prefix` (a plain string prefix), sorted."""
        ...

    def delete(self, key: str) -> None:
        """Remove the object; deleting an absent key is not an error."""
        ...

    def head(self, key: str) -> ObjectInfo:
        """Size, etag, content type and cache control; `ObjectNotFound` if absent."""
        ...

    def url_for(self, key: str) -> str:
        """A URL addressing the object in this backend (file:// or the S3 endpoint)."""
        ...


def put_changed(
    store: ObjectStore,
    written: dict[str, bytes],
    key: str,
    data: bytes,
    content_type: str,
    cache_control: str | None = None,
) -> bool:
    """Put `data` at `key` unless the object already holds exactly these bytes; True if put.

    `written` is the caller's memory of what each key held when last read or written, so an
    object is read from the store at most once per writer. An unchanged object is never put
    again: it keeps its ETag, and readers' caches of it stay valid (the feeds, the site).
    """
    if key not in written:
        with contextlib.suppress(ObjectNotFound):  # absent: nothing to compare with
            written[key] = store.get(key)
    if written.get(key) == data:
        return False
    store.put(key, data, content_type, cache_control)
    written[key] = data
    return True
