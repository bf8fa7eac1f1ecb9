"""The anonymizer's per-message logic without a broker: revisions, dead letters, JSON input."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from message_fakes import FakeMessage
from openbeat.contracts.codec import KIND_SCHEMAS, SchemaStore
from openbeat.contracts.examples import example_incident, example_report
from openbeat.contracts.json_input import to_json_bytes
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.contracts.offenses import load_offense_table
from openbeat.emit.producer import event_key
from openbeat.pipeline.anonymizer import AnonymizerProcessor
from openbeat.pipeline.revisions import RevisionState
from openbeat.privacy.policy import load_policy
from openbeat.runtime.topics import TopicNames

NAMES = TopicNames("unit")


@pytest.fixture(scope="module")
def schemas() -> SchemaStore:
    return SchemaStore.load()


@pytest.fixture
def processor(schemas: SchemaStore) -> AnonymizerProcessor:
    return AnonymizerProcessor(
        names=NAMES,
        schemas=schemas,
        jurisdiction=load_jurisdiction("sample"),
        offenses=load_offense_table(),
        policy=load_policy(),
        key=b"unit-test-key-0123456789",
        bootstrap="unused:9092",
        # The examples are dated 2024; "now" is real time, so the future check never trips.
        future_skew=timedelta(minutes=5),
    )


def _message(
    schemas: SchemaStore, kind: str, record: dict[str, Any], offset: int = 0
) -> FakeMessage:
    value = schemas.encode(KIND_SCHEMAS[kind], record)
    return FakeMessage(NAMES.raw(kind), 0, offset, event_key(kind, record), value)


def test_higher_revision_replaces_and_lower_or_equal_is_ignored(
    processor: AnonymizerProcessor, schemas: SchemaStore
) -> None:
    first = list(processor.process(_message(schemas, "incident", example_incident(revision=2))))
    same = list(processor.process(_message(schemas, "incident", example_incident(revision=2))))
    older = list(processor.process(_message(schemas, "incident", example_incident(revision=1))))
    newer = list(
        processor.process(
            _message(schemas, "incident", example_incident(revision=3, status="closed"))
        )
    )

    public = [o for o in first + newer if o.topic == NAMES.public("incident")]
    assert same == [] and older == []
    assert len(public) == 2
    decoded = [schemas.decode(o.value).record for o in public]
    assert decoded[0]["public_id"] == decoded[1]["public_id"]
    assert [d["revision"] for d in decoded] == [2, 3]
    assert processor.counts.superseded == 2


def test_aborted_transaction_forgets_its_revisions(
    processor: AnonymizerProcessor, schemas: SchemaStore
) -> None:
    processor.process(_message(schemas, "incident", example_incident(revision=1)))
    processor.abort()

    again = list(processor.process(_message(schemas, "incident", example_incident(revision=1))))

    assert any(o.topic == NAMES.public("incident") for o in again)


def test_invalid_event_is_dead_lettered_with_original_bytes_and_headers(
    processor: AnonymizerProcessor, schemas: SchemaStore
) -> None:
    message = _message(schemas, "incident", example_incident(district="NOPE"), offset=41)
    message.headers = [("trace", b"abc")]

    [letter] = processor.process(message)

    headers = dict(letter.headers)
    assert letter.topic == NAMES.deadletter
    assert letter.key == message.key and letter.value == message.value
    assert headers["trace"] == b"abc"
    assert headers["openbeat.error.code"] == b"unknown_district"
    assert b"district" in headers["openbeat.error.detail"]
    assert headers["openbeat.source.offset"] == b"41"
    assert processor.rejections == {"unknown_district": 1}


def test_json_event_gives_the_same_output_as_avro(
    processor: AnonymizerProcessor, schemas: SchemaStore
) -> None:
    record = example_report()
    avro = list(processor.process(_message(schemas, "report", record)))
    processor.abort()
    json_message = FakeMessage(
        NAMES.raw("report"),
        0,
        1,
        event_key("report", record),
        to_json_bytes(record),
        [("content-type", b"application/json")],
    )

    from_json = list(processor.process(json_message))

    assert [(o.topic, o.key, o.value) for o in from_json] == [
        (o.topic, o.key, o.value) for o in avro
    ]


def test_revision_state_is_per_slot_and_pending_until_commit() -> None:
    state = RevisionState()
    assert state.accept(("incident", 0), "k", 1)
    assert not state.accept(("incident", 0), "k", 1)
    assert state.accept(("report", 0), "k", 1)  # another slot, another key space
    state.abort()
    assert state.current(("incident", 0), "k") is None
    state.accept(("incident", 0), "k", 4)
    state.commit()
    state.abort()
    assert state.current(("incident", 0), "k") == 4


def test_an_exception_while_anonymizing_one_event_dead_letters_it_and_the_next_goes_through(
    processor: AnonymizerProcessor, schemas: SchemaStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any per-record failure, not only the expected ones, dead-letters that record."""
    from openbeat.pipeline import prepare as prepare_module

    real = prepare_module.anonymize

    def flaky(kind: str, record: dict[str, Any], ctx: Any) -> Any:
        if record["incident_id"] == "BAD-1":
            raise OverflowError("date value out of range")
        return real(kind, record, ctx)

    monkeypatch.setattr(prepare_module, "anonymize", flaky)
    bad = _message(schemas, "incident", example_incident(incident_id="BAD-1"), offset=5)

    [letter] = processor.process(bad)
    good = list(processor.process(_message(schemas, "incident", example_incident(), offset=6)))

    headers = dict(letter.headers)
    assert letter.topic == NAMES.deadletter and letter.value == bad.value
    assert headers["openbeat.error.code"] == b"processing_error"
    assert headers["openbeat.error.detail"] == b"OverflowError: date value out of range"
    assert any(o.topic == NAMES.public("incident") for o in good)
    assert processor.rejections == {"processing_error": 1}


def test_a_year_one_event_is_dead_lettered_not_raised(
    processor: AnonymizerProcessor, schemas: SchemaStore
) -> None:
    from datetime import UTC, datetime

    year_one = datetime(1, 1, 1, tzinfo=UTC)
    message = _message(schemas, "incident", example_incident(occurred_at=year_one))

    [letter] = processor.process(message)

    assert dict(letter.headers)["openbeat.error.code"] == b"timestamp_out_of_range"


def test_an_oversized_event_gets_a_dead_letter_that_fits_the_request_limit(
    processor: AnonymizerProcessor,
) -> None:
    from openbeat.runtime.clients import MAX_REQUEST_BYTES
    from openbeat.runtime.deadletter import record_size

    value = b"\xc3\x01" + b"\xff" * (MAX_REQUEST_BYTES - 100)
    message = FakeMessage(NAMES.raw("incident"), 0, 9, b"RPD:1", value, [("trace", b"t")])

    [letter] = processor.process(message)

    headers = dict(letter.headers)
    assert headers["openbeat.error.code"] == b"too_large"
    assert headers["openbeat.original.size"] == str(len(value)).encode()
    assert record_size(letter.key, letter.value, letter.headers) < MAX_REQUEST_BYTES
