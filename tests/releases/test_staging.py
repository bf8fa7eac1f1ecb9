"""Staged parts: deterministic keys, replay without duplicates, and rows from public records."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from release_inputs import public_incident

from openbeat.releases import (
    dataset_rows,
    list_parts,
    read_staged,
    stage_part,
    staged_offsets,
)
from openbeat.releases.staging import StagingError
from openbeat.store import LocalStore, ObjectStore

TOPIC = "openbeat.public.incidents"
NOW = datetime(2026, 11, 2, 14, tzinfo=UTC)


def _offsets(store: ObjectStore) -> list[tuple[int, int]]:
    return [(s.partition, s.offset) for s in read_staged(store, "incidents")]


def test_part_key_is_deterministic_and_round_trips_records(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    records = [(5, public_incident("a")), (6, public_incident("b", occurred_hour=None))]
    key = stage_part(store, "incidents", TOPIC, 2, 5, 6, records)
    assert key == (
        "staging/incidents/openbeat.public.incidents/2/"
        "00000000000000000005-00000000000000000006.avro"
    )
    first_bytes = store.get(key)
    assert stage_part(store, "incidents", TOPIC, 2, 5, 6, records) == key
    assert store.get(key) == first_bytes  # a replay rewrites identical bytes
    staged = list(read_staged(store, "incidents"))
    assert [(s.topic, s.partition, s.offset) for s in staged] == [(TOPIC, 2, 5), (TOPIC, 2, 6)]
    assert staged[0].record == records[0][1]
    assert staged[1].record["occurred_hour"] is None


def test_overlapping_replayed_parts_yield_each_offset_once(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    batch = [(o, public_incident(f"id{o}")) for o in range(0, 10)]
    stage_part(store, "incidents", TOPIC, 0, 0, 4, batch[0:5])
    stage_part(store, "incidents", TOPIC, 0, 5, 9, batch[5:10])
    # After a crash the publisher re-consumed from offset 3 with other batch boundaries.
    stage_part(store, "incidents", TOPIC, 0, 3, 7, batch[3:8])
    stage_part(store, "incidents", TOPIC, 0, 0, 9, batch)
    stage_part(
        store,
        "incidents",
        TOPIC,
        1,
        0,
        1,
        [(0, public_incident("p1a")), (1, public_incident("p1b"))],
    )
    assert len(list_parts(store, "incidents")) == 5
    assert _offsets(store) == [(0, o) for o in range(10)] + [(1, 0), (1, 1)]
    assert staged_offsets(store, "incidents") == {TOPIC: {"0": 9, "1": 1}}


def test_offset_gaps_from_transaction_markers_are_fine(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    stage_part(
        store, "incidents", TOPIC, 0, 0, 4, [(0, public_incident("a")), (2, public_incident("b"))]
    )
    stage_part(store, "incidents", TOPIC, 0, 5, 9, [(6, public_incident("c"))])
    assert _offsets(store) == [(0, 0), (0, 2), (0, 6)]


def test_a_part_spanning_a_gap_never_hides_another_copy_s_part(tmp_path: Path) -> None:
    """Issue 10: a publisher that kept the buffer of a partition it lost staged, once the
    partition came back, one part from its old records and its new ones (0..199 and 251..400);
    the copy that owned the partition meanwhile had staged 100..250. The gap part's range
    covers 100..250, yet 200..250 are only in the other part: read_staged must read them."""
    store = LocalStore(tmp_path)
    records = {o: public_incident(f"id{o}") for o in range(401)}
    # This copy staged 0..99, then lost the partition with 100..199 still buffered.
    stage_part(store, "incidents", TOPIC, 0, 0, 99, [(o, records[o]) for o in range(100)])
    # The other copy read from the committed offset 100 and staged 100..250.
    stage_part(store, "incidents", TOPIC, 0, 100, 250, [(o, records[o]) for o in range(100, 251)])
    # The partition came back at 251: the old buffer and the new records in one part.
    stale = [(o, records[o]) for o in [*range(100, 200), *range(251, 401)]]
    stage_part(store, "incidents", TOPIC, 0, 0, 400, [(o, records[o]) for o in range(100)] + stale)
    staged = list(read_staged(store, "incidents"))
    assert [s.offset for s in staged] == list(range(401))
    assert all(s.record == records[s.offset] for s in staged)


@pytest.mark.parametrize(
    ("topic", "partition", "start", "end", "offsets"),
    [
        ("../escape", 0, 0, 1, [0]),
        ("a/b", 0, 0, 1, [0]),
        (TOPIC, -1, 0, 1, [0]),
        (TOPIC, 0, 5, 4, []),
        (TOPIC, 0, 0, 1, [2]),
    ],
)
def test_bad_parts_are_rejected(
    tmp_path: Path, topic: str, partition: int, start: int, end: int, offsets: list[int]
) -> None:
    store = LocalStore(tmp_path)
    with pytest.raises(StagingError):
        stage_part(
            store,
            "incidents",
            topic,
            partition,
            start,
            end,
            [(o, public_incident("x")) for o in offsets],
        )
    assert store.list() == []


def test_dataset_rows_keep_latest_revision_and_drop_withdrawn(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    stage_part(
        store,
        "incidents",
        TOPIC,
        0,
        0,
        3,
        [
            (0, public_incident("a", 1, status="open")),
            (1, public_incident("b", 1)),
            (2, public_incident("a", 3, status="cleared_arrest")),
            (3, public_incident("c", 1)),
        ],
    )
    # Revision 2 of "a" arrives later on another partition: revision 3 still wins.
    stage_part(
        store,
        "incidents",
        TOPIC,
        1,
        0,
        1,
        [
            (0, public_incident("a", 2, status="closed")),
            (1, public_incident("c", 2, withdrawn=True)),
        ],
    )
    rows = sorted(
        dataset_rows("incidents", read_staged(store, "incidents")), key=lambda r: r["public_id"]
    )
    assert [(r["public_id"], r["status"]) for r in rows] == [("a", "cleared_arrest"), ("b", "open")]
    assert "revision" not in rows[0] and "withdrawn" not in rows[0]


def test_engagement_rows_exclude_cancelled_events(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    base = {
        "revision": 1,
        "withdrawn": False,
        "kind": "forum",
        "starts_at": datetime(2026, 12, 1, 18, tzinfo=UTC),
        "ends_at": None,
        "district": "D2",
        "venue": "Hall",
        "block": None,
        "attendee_count": None,
        "partners": [],
        "topics": [],
    }
    topic = "openbeat.public.engagements"
    stage_part(
        store,
        "engagements",
        topic,
        0,
        0,
        2,
        [
            (0, {**base, "public_id": "e1", "status": "scheduled"}),
            (1, {**base, "public_id": "e2", "status": "held", "attendee_count": 12}),
            (2, {**base, "public_id": "e3", "status": "cancelled"}),
        ],
    )
    rows = dataset_rows("engagement-events", read_staged(store, "engagements"))
    assert sorted(r["public_id"] for r in rows) == ["e1", "e2"]


def test_parts_staged_with_public_incident_v1_read_as_one_offense(tmp_path: Path) -> None:
    import io
    import json

    import fastavro

    from openbeat.paths import SCHEMAS_DIR

    v1 = json.loads((SCHEMAS_DIR / "public" / "incident.v1.avsc").read_text("utf-8"))
    wrapper = fastavro.parse_schema(
        {
            "type": "record",
            "name": "StagedRecord",
            "namespace": "openbeat.staging",
            "fields": [{"name": "offset", "type": "long"}, {"name": "record", "type": v1}],
        }
    )
    old = public_incident("a")
    del old["offense_count"], old["offense_codes"]
    buffer = io.BytesIO()
    fastavro.writer(buffer, wrapper, [{"offset": 3, "record": old}])
    store = LocalStore(tmp_path)
    store.put(
        f"staging/incidents/{TOPIC}/0/00000000000000000003-00000000000000000003.avro",
        buffer.getvalue(),
        "application/avro",
    )
    (staged,) = read_staged(store, "incidents")
    assert staged.record == {**old, "offense_count": 1, "offense_codes": []}


def test_parts_in_today_s_schema_read_the_same_as_through_schema_resolution(
    tmp_path: Path,
) -> None:
    """Today's parts skip Avro schema resolution (twice as fast); the records are the same."""
    import io

    import fastavro

    from openbeat.releases.staging import _wrapper_schema

    store = LocalStore(tmp_path)
    records = [
        (i, public_incident(f"p{i}", occurred_hour=None if i % 3 else NOW)) for i in range(50)
    ]
    key = stage_part(store, "incidents", TOPIC, 0, 0, 49, records)
    resolved = list(
        fastavro.reader(io.BytesIO(store.get(key)), reader_schema=_wrapper_schema("incidents"))
    )
    staged = list(read_staged(store, "incidents"))
    assert [(s.offset, s.record) for s in staged] == [(r["offset"], r["record"]) for r in resolved]
    assert [s.record for s in staged] == [r for _, r in records]
