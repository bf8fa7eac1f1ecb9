"""Property: for ANY input bytes, decoding gives a record or a ContractError with a known code.

Services rely on this to dead-letter bad input instead of crashing (SPEC 9), so no other exception
type may escape `SchemaStore.decode` or `decode_json`.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openbeat.contracts.codec import KIND_SCHEMAS, SchemaStore, default_store
from openbeat.contracts.errors import DECODE_ERROR_CODES, ContractError
from openbeat.contracts.examples import (
    example_engagement,
    example_incident,
    example_report,
    example_survey_response,
)
from openbeat.contracts.json_input import decode_json, to_json_bytes

STORE: SchemaStore = default_store()
VALID = [
    STORE.encode(KIND_SCHEMAS["incident"], example_incident()),
    STORE.encode(KIND_SCHEMAS["incident"], example_incident(), version=1),  # v1 ignores v2 fields
    STORE.encode(KIND_SCHEMAS["report"], example_report()),
    STORE.encode(KIND_SCHEMAS["engagement"], example_engagement()),
    STORE.encode(KIND_SCHEMAS["engagement"], example_survey_response()),
]
VALID_JSON = [to_json_bytes(example_incident()), to_json_bytes(example_survey_response())]
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _decode_outcome(data: bytes, expected: str | None = None) -> Any:
    try:
        return STORE.decode(data, expected_full_name=expected).record
    except ContractError as exc:
        assert exc.code in DECODE_ERROR_CODES, exc.code
        assert exc.detail and "\n" not in exc.detail
        return exc


@st.composite
def mutated(draw: st.DrawFn, payloads: list[bytes]) -> bytes:
    """A valid message, then truncated, bit-flipped, overwritten or extended."""
    data = bytearray(draw(st.sampled_from(payloads)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["truncate", "flip", "overwrite", "insert", "append"]))
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        if op == "truncate":
            del data[pos:]
        elif op == "flip":
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == "overwrite":
            data[pos] = draw(st.integers(0, 255))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=8))
        else:
            data += draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_escape_as_another_exception(data: bytes) -> None:
    _decode_outcome(data)


@FUZZ
@given(st.binary(max_size=200))
def test_arbitrary_body_behind_a_valid_header(body: bytes) -> None:
    header = STORE.latest(KIND_SCHEMAS["incident"]).header
    _decode_outcome(header + body, KIND_SCHEMAS["incident"])


@FUZZ
@given(mutated(VALID))
def test_mutated_valid_messages(data: bytes) -> None:
    outcome = _decode_outcome(data)
    if isinstance(outcome, dict):  # a mutation that still decodes must have the reader's shape
        assert outcome.keys() >= {"agency_id"}


@FUZZ
@given(st.one_of(st.binary(max_size=300), mutated(VALID_JSON)))
def test_json_decoder_never_escapes_either(data: bytes) -> None:
    for name in (KIND_SCHEMAS["incident"], KIND_SCHEMAS["engagement"]):
        try:
            decode_json(data, name, STORE)
        except ContractError as exc:
            assert exc.code in DECODE_ERROR_CODES, exc.code


def test_truncating_a_valid_message_at_every_position_is_rejected() -> None:
    """Exhaustive, not sampled: every proper prefix of every valid message is an error."""
    for data in VALID:
        for cut in range(len(data)):
            outcome = _decode_outcome(data[:cut])
            assert isinstance(outcome, ContractError), cut
