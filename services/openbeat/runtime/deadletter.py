"""Dead letters: what a service emits instead of stopping when one record cannot be handled.

Every stage turns a per-record problem into one dead-letter record on the dead-letter topic, and
goes on with the next record; nothing one record holds may abort a batch or a transaction (an
aborted batch is consumed again and fails again: the partition would be blocked for good).

A dead letter carries the original key, value and headers untouched, plus headers saying why
(`openbeat.error.code`, `openbeat.error.detail`) and where it came from
(`openbeat.source.topic|partition|offset`), so an agency can fix and re-send it. When the
original does not fit under the producer's request limit with those headers added (raw topics
accept messages up to that very limit), the value and headers are replaced by their SHA-256
digest and size (`openbeat.original.*`): a dead letter that cannot be produced would abort the
transaction on every retry.

`guarded` is the one wrapper every stage calls per record: any exception raised while handling
that record becomes a dead letter with the exception's class and message as the reason.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from openbeat.runtime.clients import MAX_REQUEST_BYTES
from openbeat.runtime.loop import Out

logger = logging.getLogger(__name__)

T = TypeVar("T")

CODE = "openbeat.error.code"
DETAIL = "openbeat.error.detail"
SOURCE_TOPIC = "openbeat.source.topic"
SOURCE_PARTITION = "openbeat.source.partition"
SOURCE_OFFSET = "openbeat.source.offset"
ORIGINAL_SHA256 = "openbeat.original.sha256"
ORIGINAL_SIZE = "openbeat.original.size"
ORIGINAL_HEADERS_SHA256 = "openbeat.original.headers-sha256"
ORIGINAL_KEY_SHA256 = "openbeat.original.key-sha256"

# Room for the record batch and record framing around one record (a few hundred bytes in
# practice) and for the headers this module adds; generous, since being wrong aborts.
HEADROOM = 64 * 1024
DEFAULT_LIMIT = MAX_REQUEST_BYTES - HEADROOM
# A key is kept in a digested dead letter when this small (it routes the letter to a
# partition and identifies the event); a larger one is digested too.
MAX_KEPT_KEY = 1024
# One reason, however long the exception message: enough for a sentence and an id.
MAX_DETAIL = 1000
# The code of a dead letter whose reason is an unexpected exception, not a contract rule.
UNEXPECTED = "processing_error"


@dataclass(frozen=True)
class Rejection:
    """Why a record was dead-lettered: a machine-readable code and one human sentence."""

    code: str
    detail: str


def rejection_of(exc: BaseException) -> Rejection:
    """The reason for an exception: its own code and detail when it has them (ContractError,
    AnonymizeError), else `processing_error` with its class and first line of its message."""
    code, detail = getattr(exc, "code", None), getattr(exc, "detail", None)
    if isinstance(code, str) and isinstance(detail, str) and code:
        return Rejection(code, detail)
    text = (str(exc).strip().splitlines() or [""])[0]
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return Rejection(UNEXPECTED, detail)


def guarded(handle: Callable[[], T], reject: Callable[[Rejection], T], where: str) -> T:
    """`handle()`, or `reject(reason)` when it raises: one record never stops a service.

    `where` names the record in the log (topic[partition]@offset). Only `Exception`s are
    caught: KeyboardInterrupt, SystemExit and the like still end the service.
    """
    try:
        return handle()
    except Exception as exc:
        rejection = rejection_of(exc)
        logger.error("dead-lettering %s after %s", where, rejection.detail, exc_info=True)
        return reject(rejection)


def dead_letter(
    topic: str,
    source: tuple[str, int, int],
    key: bytes | None,
    value: bytes | None,
    headers: Sequence[tuple[str, bytes]],
    rejection: Rejection,
    limit: int = DEFAULT_LIMIT,
) -> Out:
    """The dead letter of the record at `source` (topic, partition, offset) on `topic`."""
    source_topic, partition, offset = source
    detail = rejection.detail
    if len(detail) > MAX_DETAIL:
        detail = detail[: MAX_DETAIL - 3] + "..."
    ours = [
        (CODE, rejection.code.encode()),
        (DETAIL, detail.encode("utf-8", "replace")),
        (SOURCE_TOPIC, source_topic.encode()),
        (SOURCE_PARTITION, str(partition).encode()),
        (SOURCE_OFFSET, str(offset).encode()),
    ]
    original = list(headers or ())
    if record_size(key, value, original + ours) <= limit:
        return Out(topic=topic, key=key, value=value, headers=original + ours)
    size = len(value or b"")
    logger.warning(
        "dead letter of %s[%d]@%d is too large (%d bytes of value): keeping its digest",
        source_topic,
        partition,
        offset,
        size,
    )
    ours += [
        (ORIGINAL_SHA256, hashlib.sha256(value or b"").hexdigest().encode()),
        (ORIGINAL_SIZE, str(size).encode()),
        (ORIGINAL_HEADERS_SHA256, _headers_digest(original).encode()),
    ]
    if key is not None and len(key) > MAX_KEPT_KEY:
        ours.append((ORIGINAL_KEY_SHA256, hashlib.sha256(key).hexdigest().encode()))
        key = None
    return Out(topic=topic, key=key, value=None, headers=ours)


def record_size(
    key: bytes | None, value: bytes | None, headers: Sequence[tuple[str, bytes]]
) -> int:
    """Bytes of key, value and headers: what a record weighs against the request limit."""
    return (
        len(key or b"")
        + len(value or b"")
        + sum(len(k.encode()) + len(v or b"") for k, v in headers)
    )


def _headers_digest(headers: Sequence[tuple[str, bytes]]) -> str:
    digest = hashlib.sha256()
    for name, value in headers:
        encoded = name.encode()
        digest.update(len(encoded).to_bytes(4, "big") + encoded)
        digest.update(len(value or b"").to_bytes(4, "big") + (value or b""))
    return digest.hexdigest()
