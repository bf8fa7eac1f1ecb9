"""The revision changelog in batches (one message per transaction and partition, issue 13):
what is written is what is restored, alongside per-event entries of older deployments, and
only committed transactions count.
"""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openbeat.pipeline.revisions import (
    BATCH_BYTES,
    BATCH_PREFIX,
    RevisionState,
    batch_messages,
    merge_message,
    pack,
    restore_partition,
)
from openbeat.runtime.clients import make_producer

TOPIC = "unit.state.anonymizer-revisions"


def _restored(outs: list[Any]) -> dict[str, int]:
    entries: dict[str, int] = {}
    for out in outs:
        merge_message(entries, out.key, out.value)
    return entries


def test_a_transaction_becomes_one_message_per_partition() -> None:
    state = RevisionState()
    state.accept(("incident", 0), "incident|RPD:1", 2, public=True)
    state.accept(("report", 0), "report|RPD:1", 1)
    state.accept(("incident", 2), "incident|RPD:9", 5)
    outs = state.changelog(TOPIC)
    assert [(o.topic, o.partition) for o in outs] == [(TOPIC, 0), (TOPIC, 2)]
    assert all(o.key.startswith(BATCH_PREFIX.encode()) for o in outs)
    assert _restored(outs) == {
        "incident|RPD:1": pack(2, True),
        "report|RPD:1": pack(1, False),
        "incident|RPD:9": pack(5, False),
    }
    state.commit()
    assert state.changelog(TOPIC) == []  # committed changes are not written again


def test_large_batches_split_below_the_message_limit_and_keys_follow_the_content() -> None:
    changes = {
        f"incident|AGENCY-WITH-A-LONG-NAME:{n:012d}": pack(n, n % 2 == 0) for n in range(20_000)
    }
    outs = batch_messages(TOPIC, 1, changes)
    assert len(outs) > 1
    assert all(len(o.value) < BATCH_BYTES + 200 for o in outs)
    assert len({o.key for o in outs}) == len(outs)
    assert _restored(outs) == changes
    # The same content gives the same key: compaction can only drop an identical batch.
    assert [o.key for o in batch_messages(TOPIC, 1, changes)] == [o.key for o in outs]


def test_legacy_per_event_entries_and_batches_mix() -> None:
    entries: dict[str, int] = {}
    merge_message(entries, b"incident|RPD:1", b"3")  # before was_public: counts as public
    merge_message(entries, b"incident|RPD:2", b"1:0")
    [batch] = batch_messages(TOPIC, 0, {"incident|RPD:2": pack(2, False)})
    merge_message(entries, batch.key, batch.value)
    assert entries == {"incident|RPD:1": pack(3, True), "incident|RPD:2": pack(2, False)}


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(1, 6), st.booleans()),
        min_size=1,
        max_size=30,
    ),
    st.randoms(),
)
def test_restore_does_not_depend_on_the_order_messages_are_read(
    events: list[tuple[str, int, bool]], shuffle: random.Random
) -> None:
    """Whatever order compaction leaves, restoring gives the state the anonymizer had."""
    state = RevisionState()
    outs = []
    for key, revision, public in events:
        state.accept(("incident", 0), key, revision, public)
        outs += state.changelog(TOPIC)  # one transaction per event: the worst case
        state.commit()
    expected = {
        key: pack(state.current(("incident", 0), key) or 0, state.was_public(("incident", 0), key))
        for key, _, _ in events
    }
    shuffle.shuffle(outs)
    assert _restored(outs) == expected


@pytest.mark.integration
def test_restore_reads_committed_batches_and_legacy_entries_from_the_broker(
    kafka_bootstrap: str, make_topic: Any
) -> None:
    topic = make_topic("revisions", partitions=2)
    plain = make_producer(kafka_bootstrap, client_id="test-legacy")
    plain.send(topic, key=b"incident|RPD:old", value=b"4", partition=1)
    plain.send(topic, key=b"incident|RPD:other-partition", value=b"1:1", partition=0)
    plain.flush()
    plain.close()
    producer = make_producer(
        kafka_bootstrap, client_id="test-batches", transactional_id=f"{topic}-tx"
    )
    producer.init_transactions()
    committed = {"incident|RPD:old": pack(5, True), "report|RPD:new": pack(1, False)}
    aborted = {"incident|RPD:old": pack(9, False), "report|RPD:gone": pack(1, True)}
    for changes, commit in ((committed, True), (aborted, False)):
        producer.begin_transaction()
        for out in batch_messages(topic, 1, changes):
            producer.send(out.topic, key=out.key, value=out.value, partition=out.partition)
        if commit:
            producer.commit_transaction()
        else:
            producer.flush()
            producer.abort_transaction()
    producer.close()

    assert restore_partition(kafka_bootstrap, topic, 1) == committed
