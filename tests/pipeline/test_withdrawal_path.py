"""One path out, through the anonymizer's revision state (was_public), and message timestamps.

Against the code before issue 9 the never-public case fails: a confidential incident whose
revision 2 was still confidential produced a public withdrawn marker with a never-seen id.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from message_fakes import FakeMessage
from openbeat.contracts.codec import KIND_SCHEMAS, SchemaStore
from openbeat.contracts.examples import example_engagement, example_incident
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.contracts.offenses import load_offense_table
from openbeat.emit.producer import event_key
from openbeat.pipeline.anonymizer import AnonymizerProcessor
from openbeat.pipeline.revisions import merge_message, parse_changelog_value, unpack
from openbeat.privacy.message_time import message_timestamp_ms
from openbeat.privacy.policy import load_policy
from openbeat.runtime.loop import Out
from openbeat.runtime.topics import TopicNames

NAMES = TopicNames("unitout")


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
        future_skew=timedelta(minutes=5),
    )


def _send(
    processor: AnonymizerProcessor, schemas: SchemaStore, kind: str, record: dict[str, Any]
) -> list[Out]:
    value = schemas.encode(KIND_SCHEMAS[kind], record)
    outs = list(
        processor.process(FakeMessage(NAMES.raw(kind), 0, 0, event_key(kind, record), value))
    )
    # What the transaction sends: the records, then the changelog of its state changes.
    outs += processor.changelog()
    processor.commit()
    return outs


def _public(outs: list[Out], kind: str) -> list[dict[str, Any]]:
    return [
        dict(SchemaStore.load().decode(o.value).record)
        for o in outs
        if o.topic == NAMES.public(kind)
    ]


def _withheld(outs: list[Out], schemas: SchemaStore) -> list[dict[str, Any]]:
    return [
        dict(schemas.decode(o.value).record) for o in outs if o.topic == NAMES.withheld_incidents
    ]


def test_never_public_incident_never_gets_a_marker(
    processor: AnonymizerProcessor, schemas: SchemaStore
) -> None:
    for revision in (1, 2, 3):
        outs = _send(
            processor, schemas, "incident", example_incident(revision=revision, confidential=True)
        )
        assert _public(outs, "incident") == []
        [counted] = _withheld(outs, schemas)
        assert counted["withdrawn"] is False  # still counted as withheld in the aggregates
        [entry] = [o for o in outs if o.topic == NAMES.revisions]
        entries: dict[str, int] = {}
        merge_message(entries, entry.key or b"", entry.value or b"")
        assert [unpack(packed) for packed in entries.values()] == [(revision, False)]


def test_a_withheld_count_is_undone_only_when_there_was_one(
    processor: AnonymizerProcessor, schemas: SchemaStore
) -> None:
    """A public revision after a withheld (counted) one tells the aggregator to stop counting
    it; a first-seen public incident at a revision > 1 (an import whose revisions come from a
    timestamp column: every row of the Chicago export) has nothing to undo and sends no
    restricted record, where before every such incident sent one (two messages per input, and
    the aggregator read every incident twice)."""
    [first] = _withheld(
        _send(processor, schemas, "incident", example_incident(revision=2, confidential=True)),
        schemas,
    )
    assert first["withdrawn"] is False
    outs = _send(processor, schemas, "incident", example_incident(revision=3))
    assert len(_public(outs, "incident")) == 1
    assert [r["withdrawn"] for r in _withheld(outs, schemas)] == [True]

    fresh = example_incident(revision=5, incident_id="never-seen-before")
    outs = _send(processor, schemas, "incident", fresh)
    assert len(_public(outs, "incident")) == 1
    assert _withheld(outs, schemas) == []


@pytest.mark.parametrize(
    "later", [{"confidential": True}, {"juvenile_involved": True}, {"status": "unfounded"}]
)
def test_a_public_incident_leaves_by_one_marker_whatever_the_reason(
    processor: AnonymizerProcessor, schemas: SchemaStore, later: dict[str, Any]
) -> None:
    [published] = _public(_send(processor, schemas, "incident", example_incident()), "incident")
    outs = _send(processor, schemas, "incident", example_incident(revision=2, **later))
    [marker] = _public(outs, "incident")
    assert marker["public_id"] == published["public_id"] and marker["withdrawn"] is True
    assert marker["category"] == "withdrawn" and marker["offense_count"] == 1
    assert marker["offense_codes"] == [] and marker["block"] is None
    # Once public, never counted as withheld again (else the aggregates would tell why).
    assert [r["withdrawn"] for r in _withheld(outs, schemas)] == [True]
    # A later withheld revision sends the marker again (it stays withdrawn) and stays uncounted.
    again = _send(processor, schemas, "incident", example_incident(revision=3, confidential=True))
    assert [m["withdrawn"] for m in _public(again, "incident")] == [True]
    assert [r["withdrawn"] for r in _withheld(again, schemas)] == [True]


def test_markers_are_identical_whatever_the_reason(
    processor: AnonymizerProcessor, schemas: SchemaStore
) -> None:
    markers = []
    for n, later in enumerate(({"confidential": True}, {"status": "unfounded"})):
        incident = {"incident_id": f"OUT-{n}"}
        _send(processor, schemas, "incident", example_incident(**incident))
        outs = _send(
            processor, schemas, "incident", example_incident(revision=2, **incident, **later)
        )
        [marker] = _public(outs, "incident")
        markers.append({k: v for k, v in marker.items() if k != "public_id"})
    assert markers[0] == markers[1]


def test_private_event_marker_only_if_it_was_public(
    processor: AnonymizerProcessor, schemas: SchemaStore
) -> None:
    hidden = {"engagement_id": "E-private", "public": False}
    assert (
        _public(_send(processor, schemas, "engagement", example_engagement(**hidden)), "engagement")
        == []
    )
    outs = _send(processor, schemas, "engagement", example_engagement(revision=2, **hidden))
    assert _public(outs, "engagement") == []
    _send(processor, schemas, "engagement", example_engagement(engagement_id="E-open"))
    outs = _send(
        processor,
        schemas,
        "engagement",
        example_engagement(engagement_id="E-open", revision=2, public=False),
    )
    assert [m["withdrawn"] for m in _public(outs, "engagement")] == [True]


def test_public_and_restricted_messages_carry_the_local_day_only(
    processor: AnonymizerProcessor, schemas: SchemaStore
) -> None:
    zone = load_jurisdiction("sample").zone
    before = message_timestamp_ms(datetime.now(UTC), zone)
    outs = _send(processor, schemas, "incident", example_incident(revision=2))
    after = message_timestamp_ms(datetime.now(UTC), zone)
    stamped = [o for o in outs if o.topic != NAMES.revisions]
    assert stamped and all(o.timestamp_ms in (before, after) for o in stamped)
    for out in stamped:
        local = datetime.fromtimestamp(out.timestamp_ms / 1000, zone)
        assert (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)


def test_legacy_changelog_values_count_as_public() -> None:
    # Written before was_public existed: the event may have been public, so it keeps its marker.
    assert unpack(parse_changelog_value(b"4")) == (4, True)
    assert unpack(parse_changelog_value(b"4:0")) == (4, False)
