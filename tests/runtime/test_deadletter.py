"""Dead letters keep the original where it fits and never exceed the producer's request limit."""

from __future__ import annotations

import hashlib

from openbeat.runtime import deadletter
from openbeat.runtime.clients import MAX_REQUEST_BYTES
from openbeat.runtime.deadletter import Rejection, dead_letter, guarded, record_size

REASON = Rejection("malformed_avro", "the body did not decode")
SOURCE = ("ns.raw.incidents", 2, 77)


def test_a_small_original_is_kept_byte_for_byte_with_its_headers() -> None:
    letter = dead_letter("ns.deadletter", SOURCE, b"k", b"\x00value", [("trace", b"t1")], REASON)

    headers = dict(letter.headers)
    assert (letter.key, letter.value) == (b"k", b"\x00value")
    assert headers["trace"] == b"t1"
    assert headers[deadletter.CODE] == b"malformed_avro"
    assert headers[deadletter.SOURCE_OFFSET] == b"77"
    assert deadletter.ORIGINAL_SHA256 not in headers


def test_an_original_at_the_request_limit_becomes_its_digest_size_and_reason() -> None:
    """Raw topics take messages up to the limit itself: with the reason headers added, the
    letter would be refused by the producer, aborting the transaction on every retry."""
    value = b"x" * (MAX_REQUEST_BYTES - 200)
    original_headers = [("big", b"h" * 5000)]

    letter = dead_letter("ns.deadletter", SOURCE, b"k", value, original_headers, REASON)

    headers = dict(letter.headers)
    assert letter.value is None
    assert letter.key == b"k"
    assert "big" not in headers
    assert headers[deadletter.ORIGINAL_SHA256] == hashlib.sha256(value).hexdigest().encode()
    assert headers[deadletter.ORIGINAL_SIZE] == str(len(value)).encode()
    assert headers[deadletter.CODE] == b"malformed_avro"
    assert record_size(letter.key, letter.value, letter.headers) < MAX_REQUEST_BYTES


def test_a_huge_key_is_digested_too_and_a_huge_reason_is_cut() -> None:
    key = b"K" * MAX_REQUEST_BYTES
    reason = Rejection("processing_error", "E" * 100_000)

    letter = dead_letter("ns.deadletter", SOURCE, key, b"v", [], reason)

    headers = dict(letter.headers)
    assert letter.key is None
    assert headers[deadletter.ORIGINAL_KEY_SHA256] == hashlib.sha256(key).hexdigest().encode()
    assert len(headers[deadletter.DETAIL]) <= deadletter.MAX_DETAIL


def test_guarded_turns_any_exception_into_a_reason_naming_its_class_and_message() -> None:
    def boom() -> str:
        raise OverflowError("date value out of range")

    seen: list[Rejection] = []

    result = guarded(boom, lambda r: seen.append(r) or "dead-lettered", "t[0]@1")

    assert result == "dead-lettered"
    assert seen == [Rejection("processing_error", "OverflowError: date value out of range")]


def test_guarded_lets_an_interrupt_through() -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    try:
        guarded(interrupted, lambda r: None, "t[0]@1")
    except KeyboardInterrupt:
        return
    raise AssertionError("KeyboardInterrupt was swallowed")
