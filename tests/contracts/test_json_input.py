"""JSON input: same schema, same decoded shape as Avro, precise rejections."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest

from openbeat.contracts.codec import KIND_SCHEMAS, SchemaStore, default_store
from openbeat.contracts.errors import ContractError
from openbeat.contracts.examples import (
    example_engagement,
    example_incident,
    example_report,
    example_survey_response,
)
from openbeat.contracts.json_input import decode_event, decode_json, is_json, to_json_bytes

INCIDENT = KIND_SCHEMAS["incident"]
REPORT = KIND_SCHEMAS["report"]
ENGAGEMENT = KIND_SCHEMAS["engagement"]


@pytest.fixture(scope="module")
def store() -> SchemaStore:
    return default_store()


def _json(record: dict[str, Any], **changes: Any) -> bytes:
    """The example as JSON text, with fields replaced by JSON values."""
    obj = json.loads(to_json_bytes(record))
    obj.update(changes)
    return json.dumps(obj).encode()


def _drop(record: dict[str, Any], *names: str) -> bytes:
    obj = json.loads(to_json_bytes(record))
    for name in names:
        del obj[name]
    return json.dumps(obj).encode()


def _error(call: Callable[[], object]) -> ContractError:
    with pytest.raises(ContractError) as info:
        call()
    return info.value


@pytest.mark.parametrize(
    ("full_name", "build"),
    [
        (INCIDENT, example_incident),
        (REPORT, example_report),
        (ENGAGEMENT, example_engagement),
        (ENGAGEMENT, example_survey_response),
    ],
)
def test_json_and_avro_decode_to_the_same_dict(
    store: SchemaStore, full_name: str, build: Callable[..., dict[str, Any]]
) -> None:
    record = build()
    from_avro = store.decode(store.encode(full_name, record)).record
    from_json = decode_json(to_json_bytes(record), full_name, store)
    assert from_json == from_avro == record
    assert type(from_json["agency_id"]) is type(from_avro["agency_id"])


def test_sub_millisecond_precision_is_dropped_like_avro_does(store: SchemaStore) -> None:
    precise = example_report(submitted_at=datetime(2024, 5, 1, 21, 5, 0, 123456, tzinfo=UTC))
    from_avro = store.decode(store.encode(REPORT, precise)).record
    from_json = decode_json(
        _json(precise, submitted_at="2024-05-01T21:05:00.123456Z"), REPORT, store
    )
    assert from_json["submitted_at"] == from_avro["submitted_at"]
    assert from_json["submitted_at"].microsecond == 123000


def test_defaults_fill_absent_optional_fields(store: SchemaStore) -> None:
    minimal = {
        "report_id": "R1",
        "agency_id": "RPD",
        "submitted_at": "2024-05-01T10:00:00Z",
        "channel": "app",
        "category": "noise",
        "district": "D1",
    }
    record = decode_json(json.dumps(minimal).encode(), REPORT, store)
    assert record["description"] is None and record["reporter"] is None
    assert record["anonymous"] is False
    assert (
        record
        == store.decode(
            store.encode(REPORT, minimal | {"submitted_at": record["submitted_at"]})
        ).record
    )


def test_unknown_fields_are_ignored(store: SchemaStore) -> None:
    record = decode_json(_json(example_report(), extra_field="whatever"), REPORT, store)
    assert "extra_field" not in record


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2024-05-01T14:30:00Z", datetime(2024, 5, 1, 14, 30, tzinfo=UTC)),
        ("2024-05-01T14:30:00+00:00", datetime(2024, 5, 1, 14, 30, tzinfo=UTC)),
        ("2024-05-01T09:30:00-05:00", datetime(2024, 5, 1, 14, 30, tzinfo=UTC)),
        ("2024-05-01 14:30:00.250Z", datetime(2024, 5, 1, 14, 30, 0, 250000, tzinfo=UTC)),
        (1714573800000, datetime(2024, 5, 1, 14, 30, tzinfo=UTC)),
    ],
)
def test_timestamp_forms(store: SchemaStore, given: Any, expected: datetime) -> None:
    record = decode_json(_json(example_report(), submitted_at=given), REPORT, store)
    assert record["submitted_at"] == expected
    assert record["submitted_at"].utcoffset().total_seconds() == 0


def test_timestamp_without_offset_is_not_utc(store: SchemaStore) -> None:
    err = _error(
        lambda: decode_json(
            _json(example_report(), submitted_at="2024-05-01T14:30:00"), REPORT, store
        )
    )
    assert err.code == "timestamp_not_utc"
    assert "submitted_at" in err.detail


@pytest.mark.parametrize("bad", ["2024-05-01", "yesterday", "2024-13-01T00:00:00Z"])
def test_unparseable_timestamps(store: SchemaStore, bad: str) -> None:
    err = _error(lambda: decode_json(_json(example_report(), submitted_at=bad), REPORT, store))
    assert err.code == "invalid_timestamp"
    assert "submitted_at" in err.detail


def test_dates_in_nested_arrays(store: SchemaStore) -> None:
    incident = example_incident()
    record = decode_json(to_json_bytes(incident), INCIDENT, store)
    assert record["persons"][0]["date_of_birth"] == date(1990, 4, 12)
    obj = json.loads(to_json_bytes(incident))
    obj["persons"][0]["date_of_birth"] = "12/04/1990"
    err = _error(lambda: decode_json(json.dumps(obj).encode(), INCIDENT, store))
    assert err.code == "invalid_date"
    assert "persons[0].date_of_birth" in err.detail


def test_missing_required_field_is_named(store: SchemaStore) -> None:
    err = _error(lambda: decode_json(_drop(example_incident(), "status"), INCIDENT, store))
    assert err.code == "missing_field"
    assert "status" in err.detail


def test_missing_field_inside_a_nested_record(store: SchemaStore) -> None:
    obj = json.loads(to_json_bytes(example_survey_response()))
    del obj["survey"]["trust_score"]
    err = _error(lambda: decode_json(json.dumps(obj).encode(), ENGAGEMENT, store))
    assert err.code == "missing_field"
    assert "survey.trust_score" in err.detail


@pytest.mark.parametrize(
    ("field", "value", "expected_words"),
    [
        ("revision", True, "whole number"),  # a bool is not an int
        ("revision", "1", "whole number"),
        ("revision", 1.5, "whole number"),
        ("revision", 2**31, "32-bit"),
        ("latitude", "41.5", "a number or null"),
        ("juvenile_involved", 1, "true or false"),
        ("persons", {"role": "victim"}, "an array"),
        ("incident_id", None, "a string"),
        ("offense_code", 23, "a string"),
    ],
)
def test_wrong_types_name_field_and_expected_type(
    store: SchemaStore, field: str, value: Any, expected_words: str
) -> None:
    err = _error(lambda: decode_json(_json(example_incident(), **{field: value}), INCIDENT, store))
    assert err.code == "wrong_type"
    assert field in err.detail
    assert expected_words in err.detail


def test_integers_are_accepted_for_doubles(store: SchemaStore) -> None:
    record = decode_json(_json(example_incident(), latitude=41, longitude=-88), INCIDENT, store)
    assert record["latitude"] == 41.0 and isinstance(record["latitude"], float)


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"[1, 2]", "json_not_object"),
        (b'"just a string"', "json_not_object"),
        (b"{not json", "json_invalid"),
        (b'{"a": NaN}', "json_invalid"),
        (b'{"a": 1e999}', "json_invalid"),
        (b"", "json_invalid"),
        (b'{"incident_id": "\xff\xfe"}', "invalid_utf8"),
    ],
)
def test_malformed_json_messages(store: SchemaStore, data: bytes, code: str) -> None:
    assert _error(lambda: decode_json(data, INCIDENT, store)).code == code


def test_lone_surrogate_escape_is_invalid_utf8(store: SchemaStore) -> None:
    # "\ud800" is valid JSON text but cannot become the UTF-8 bytes of an Avro string.
    data = _json(example_incident()).replace(b'"RPD-2024-000123"', b'"\\ud800"')
    err = _error(lambda: decode_json(data, INCIDENT, store))
    assert err.code == "invalid_utf8"
    assert "incident_id" in err.detail


def test_too_large_json() -> None:
    small = SchemaStore.load(max_bytes=100)
    err = _error(lambda: decode_json(to_json_bytes(example_incident()), INCIDENT, small))
    assert err.code == "too_large"


def test_content_type_header_selects_the_decoder(store: SchemaStore) -> None:
    record = example_report()
    as_json = decode_event(
        to_json_bytes(record), [("content-type", b"application/json; charset=utf-8")], REPORT, store
    )
    as_avro = decode_event(store.encode(REPORT, record), [("other", b"x")], REPORT, store)
    assert as_json == as_avro == record
    assert is_json([("Content-Type", b"APPLICATION/JSON")])
    assert not is_json(None)
    # Without the header, JSON bytes are treated as Avro and rejected with a hint.
    err = _error(lambda: decode_event(to_json_bytes(record), None, REPORT, store))
    assert err.code == "not_single_object"


def test_to_json_bytes_writes_utc_z_timestamps_and_iso_dates() -> None:
    obj = json.loads(to_json_bytes(example_incident()))
    assert obj["reported_at"] == "2024-05-01T14:30:00.000Z"
    assert obj["persons"][0]["date_of_birth"] == "1990-04-12"


def test_to_json_bytes_refuses_naive_datetimes() -> None:
    with pytest.raises(TypeError, match="naive"):
        to_json_bytes({"t": datetime(2024, 1, 1)})
