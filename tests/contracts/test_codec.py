"""Single-object encoding: round trips, every rejection code, and loading the schemas folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from openbeat.contracts.codec import (
    HEADER_SIZE,
    KIND_SCHEMAS,
    SINGLE_OBJECT_MAGIC,
    SchemaStore,
    default_store,
)
from openbeat.contracts.errors import ContractError, SchemaStoreError
from openbeat.contracts.examples import (
    example_engagement,
    example_incident,
    example_report,
    example_survey_response,
)

EXAMPLES: dict[str, Callable[..., dict[str, Any]]] = {
    "incident": example_incident,
    "report": example_report,
    "engagement": example_engagement,
}


@pytest.fixture(scope="module")
def store() -> SchemaStore:
    return default_store()


def _error(call: Callable[[], object]) -> ContractError:
    with pytest.raises(ContractError) as info:
        call()
    return info.value


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_round_trip_of_each_kind(store: SchemaStore, kind: str) -> None:
    record = EXAMPLES[kind]()
    data = store.encode(KIND_SCHEMAS[kind], record)
    decoded = store.decode(data, expected_full_name=KIND_SCHEMAS[kind])
    assert decoded.full_name == KIND_SCHEMAS[kind]
    assert decoded.writer_version == store.versions(KIND_SCHEMAS[kind])[-1]
    assert decoded.record == record


def test_round_trip_of_a_survey_response_keeps_nested_records(store: SchemaStore) -> None:
    record = example_survey_response()
    decoded = store.decode(store.encode("openbeat.raw.Engagement", record))
    assert decoded.record["survey"] == record["survey"]
    assert decoded.record["respondent"] == record["respondent"]


def test_message_layout_is_magic_fingerprint_body(store: SchemaStore) -> None:
    data = store.encode("openbeat.raw.Report", example_report())
    sv = store.latest("openbeat.raw.Report")
    assert data[:2] == SINGLE_OBJECT_MAGIC == b"\xc3\x01"
    assert int.from_bytes(data[2:HEADER_SIZE], "little") == sv.fingerprint


def test_timestamps_come_back_as_aware_utc(store: SchemaStore) -> None:
    decoded = store.decode(store.encode("openbeat.raw.Report", example_report()))
    submitted = decoded.record["submitted_at"]
    assert isinstance(submitted, datetime)
    assert submitted.utcoffset() is not None and submitted.utcoffset().total_seconds() == 0


def test_old_writer_version_is_read_into_the_newest_shape(store: SchemaStore) -> None:
    record = example_incident()
    v1_record = {k: v for k, v in record.items() if k not in ("beat", "source_system")}
    decoded = store.decode(store.encode("openbeat.raw.Incident", v1_record, version=1))
    assert decoded.writer_version == 1
    assert decoded.record == {**v1_record, "beat": None, "source_system": None}


# -- rejection codes -------------------------------------------------------------------------


def test_random_bytes_and_plain_json_are_not_single_object(store: SchemaStore) -> None:
    assert _error(lambda: store.decode(b"\x00\x01garbage")).code == "not_single_object"
    err = _error(lambda: store.decode(b'{"incident_id": "1"}'))
    assert err.code == "not_single_object"
    assert "application/json" in err.detail
    assert _error(lambda: store.decode(b"")).code == "not_single_object"
    assert _error(lambda: store.decode(None)).code == "not_single_object"


def test_header_cut_short_is_truncated(store: SchemaStore) -> None:
    data = store.encode("openbeat.raw.Report", example_report())
    assert _error(lambda: store.decode(data[:6])).code == "truncated"


def test_body_cut_short_is_truncated(store: SchemaStore) -> None:
    data = store.encode("openbeat.raw.Report", example_report())
    assert _error(lambda: store.decode(data[:-5])).code == "truncated"


def test_unknown_fingerprint_names_the_fingerprint(store: SchemaStore) -> None:
    data = store.encode("openbeat.raw.Report", example_report())
    forged = data[:2] + b"\x01" * 8 + data[HEADER_SIZE:]
    err = _error(lambda: store.decode(forged))
    assert err.code == "unknown_fingerprint"
    assert "0101010101010101" in err.detail


def test_wrong_schema_when_the_topic_expects_another_record(store: SchemaStore) -> None:
    data = store.encode("openbeat.raw.Report", example_report())
    err = _error(lambda: store.decode(data, expected_full_name="openbeat.raw.Incident"))
    assert err.code == "wrong_schema"
    assert "openbeat.raw.Report" in err.detail


def test_trailing_bytes(store: SchemaStore) -> None:
    data = store.encode("openbeat.raw.Report", example_report())
    err = _error(lambda: store.decode(data + b"\x00\x00"))
    assert err.code == "trailing_bytes"
    assert "2 bytes" in err.detail


def test_too_large_is_checked_before_anything_else() -> None:
    small = SchemaStore.load(max_bytes=64)
    data = default_store().encode("openbeat.raw.Incident", example_incident())
    assert len(data) > 64
    assert _error(lambda: small.decode(data)).code == "too_large"
    assert _error(lambda: small.encode("openbeat.raw.Incident", example_incident())).code == (
        "too_large"
    )


def test_invalid_utf8_in_a_string_field(store: SchemaStore) -> None:
    record = example_report(report_id="ABCD")
    data = store.encode("openbeat.raw.Report", record)
    # report_id is the first field: a zig-zag length byte (4 -> 0x08), then its bytes.
    assert data[HEADER_SIZE : HEADER_SIZE + 5] == b"\x08ABCD"
    bad = data[: HEADER_SIZE + 1] + b"\xff\xfe\xfd\xfc" + data[HEADER_SIZE + 5 :]
    assert _error(lambda: store.decode(bad)).code == "invalid_utf8"


def test_malformed_union_index(store: SchemaStore) -> None:
    record = example_report(report_id="A", agency_id="B")
    data = store.encode("openbeat.raw.Report", record)
    # report_id "A", agency_id "B", submitted_at (a varint), channel, category, then the
    # description union index: replace it with 0x7e (index 63, no such branch).
    body = bytearray(data[HEADER_SIZE:])
    pos = 4  # past 02 41 02 42
    while body[pos] & 0x80:  # skip the timestamp varint
        pos += 1
    pos += 1
    for _ in range(2):  # skip channel and category strings
        length = body[pos] >> 1
        pos += 1 + length
    body[pos] = 0x7E
    err = _error(lambda: store.decode(data[:HEADER_SIZE] + bytes(body)))
    assert err.code == "malformed_avro"
    assert "union" in err.detail


def test_negative_length_prefix_is_malformed(store: SchemaStore) -> None:
    data = store.encode("openbeat.raw.Report", example_report())
    bad = data[:HEADER_SIZE] + b"\x03" + data[HEADER_SIZE + 1 :]  # zig-zag 3 = -2
    assert _error(lambda: store.decode(bad)).code == "malformed_avro"


def test_encode_rejects_a_record_that_does_not_fit(store: SchemaStore) -> None:
    err = _error(lambda: store.encode("openbeat.raw.Report", example_report(channel=7)))
    assert err.code == "invalid_record"
    assert "openbeat.raw.Report" in err.detail


def test_encode_rejects_naive_datetimes(store: SchemaStore) -> None:
    naive = datetime(2024, 5, 1, 12, 0)
    err = _error(lambda: store.encode("openbeat.raw.Report", example_report(submitted_at=naive)))
    assert err.code == "timestamp_not_utc"
    assert "submitted_at" in err.detail


# -- the store -------------------------------------------------------------------------------


def test_store_knows_every_repository_schema(store: SchemaStore) -> None:
    for full_name in KIND_SCHEMAS.values():
        assert full_name in store.names
    assert store.versions("openbeat.raw.Incident") == (1, 2, 3)
    assert store.latest("openbeat.raw.Incident").version == 3


def test_unknown_name_or_version_is_a_clear_error(store: SchemaStore) -> None:
    with pytest.raises(SchemaStoreError, match=r"openbeat\.raw\.Nope"):
        store.schema("openbeat.raw.Nope")
    with pytest.raises(SchemaStoreError, match="no version 9"):
        store.schema("openbeat.raw.Incident", 9)


def _write(folder: Path, name: str, schema: Any) -> Path:
    path = folder / name
    path.write_text(schema if isinstance(schema, str) else json.dumps(schema), encoding="utf-8")
    return path


RECORD = {
    "type": "record",
    "name": "Thing",
    "namespace": "t",
    "fields": [{"name": "a", "type": "int"}],
}


@pytest.mark.parametrize(
    ("file_name", "content", "reason"),
    [
        ("thing.avsc", RECORD, "must be named"),
        ("thing.v1.avsc", "{not json", "not valid JSON"),
        ("thing.v1.avsc", '"int"', "must be an Avro record"),
        (
            "thing.v1.avsc",
            {"type": "record", "name": "T", "fields": [{"name": "a", "type": "nosuchtype"}]},
            "not a valid Avro schema",
        ),
    ],
)
def test_bad_schema_file_error_names_file_and_reason(
    tmp_path: Path, file_name: str, content: Any, reason: str
) -> None:
    _write(tmp_path, file_name, content)
    with pytest.raises(SchemaStoreError) as info:
        SchemaStore.load(tmp_path)
    assert file_name in str(info.value)
    assert reason in str(info.value)


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SchemaStoreError, match=r"no \*\.avsc"):
        SchemaStore.load(tmp_path)


def test_duplicate_version_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    _write(tmp_path, "thing.v1.avsc", RECORD)
    _write(tmp_path / "a", "thing.v1.avsc", RECORD)
    with pytest.raises(SchemaStoreError, match="also defined"):
        SchemaStore.load(tmp_path)


def test_doc_only_change_shares_a_fingerprint_and_decodes_as_the_first_version(
    tmp_path: Path,
) -> None:
    _write(tmp_path, "thing.v1.avsc", RECORD)
    _write(tmp_path, "thing.v2.avsc", {**RECORD, "doc": "now documented"})
    store = SchemaStore.load(tmp_path)
    decoded = store.decode(store.encode("t.Thing", {"a": 5}))
    assert decoded.writer_version == 1
    assert decoded.record == {"a": 5}
