"""The anonymizer with worker processes gives exactly what it gives in one process.

`process_many` runs decode/validate/anonymize/encode in forked workers and the revision check
in the caller; the outputs (records, changelog batches, dead letters), their order and the
counts must be those of calling `process` message by message, with the transaction's
`changelog()` after the last message.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from message_fakes import FakeMessage
from openbeat.contracts.codec import KIND_SCHEMAS, SchemaStore
from openbeat.contracts.examples import example_incident
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.contracts.offenses import load_offense_table
from openbeat.emit.producer import event_key
from openbeat.emit.sample import generate_sample
from openbeat.pipeline.anonymizer import AnonymizerProcessor
from openbeat.privacy.policy import load_policy
from openbeat.runtime.topics import TopicNames

NAMES = TopicNames("unitworkers")


def _processor(workers: int) -> AnonymizerProcessor:
    return AnonymizerProcessor(
        names=NAMES,
        schemas=SchemaStore.load(),
        jurisdiction=load_jurisdiction("sample"),
        offenses=load_offense_table(),
        policy=load_policy(),
        key=b"unit-test-key-0123456789",
        bootstrap="unused:9092",
        future_skew=timedelta(minutes=5),
        workers=workers,
    )


def _messages() -> list[FakeMessage]:
    """A sample with repeated revisions (superseded), bad bytes and invalid events mixed in."""
    schemas = SchemaStore.load()
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    sample = list(generate_sample(700, 3, load_jurisdiction("sample"), now))
    sample += sample[:150]  # equal revisions again: ignored
    messages: list[FakeMessage] = []
    for offset, (kind, record) in enumerate(sample):
        value = schemas.encode(KIND_SCHEMAS[kind], record)
        messages.append(
            FakeMessage(NAMES.raw(kind), offset % 3, offset, event_key(kind, record), value)
        )
    bad_district = schemas.encode(KIND_SCHEMAS["incident"], example_incident(district="ZZ"))
    extra = [
        FakeMessage(NAMES.raw("incident"), 1, 9001, b"k1", b"not avro", [("trace", b"t")]),
        FakeMessage(NAMES.raw("incident"), 2, 9002, b"k2", bad_district),
        FakeMessage(NAMES.raw("report"), 0, 9003, b"k3", None),
        FakeMessage("elsewhere", 0, 9004, b"k4", b"x"),
    ]
    random.Random(7).shuffle(extra)
    for i, message in enumerate(extra):
        messages.insert(100 + 200 * i, message)
    return messages


def _flat(outs: Any) -> list[tuple[Any, ...]]:
    return [
        (topic, value, key, list(headers), partition, timestamp_ms)
        for topic, value, key, headers, partition, timestamp_ms in outs
    ]


def _one_by_one(processor: AnonymizerProcessor, messages: list[FakeMessage]) -> list[list[Any]]:
    """One transaction's outputs from `process` per message, the changelog after the last."""
    outs = [_flat(processor.process(m)) for m in messages]
    outs[-1] += _flat(processor.changelog())
    processor.commit()
    return outs


def test_workers_give_the_same_outputs_in_the_same_order_as_one_process() -> None:
    messages = _messages()
    alone = _processor(0)
    expected = _one_by_one(alone, messages[:400]) + _one_by_one(alone, messages[400:])

    parallel = _processor(2)
    parallel.start()
    try:
        assert parallel.workers is not None and len(parallel.workers.pids) == 2
        # Two "transactions": state carried from the first must apply to the second.
        first = [_flat(outs) for outs in parallel.process_many(messages[:400])]
        parallel.commit()
        second = [_flat(outs) for outs in parallel.process_many(messages[400:])]
    finally:
        parallel.close()

    assert first + second == expected
    # One changelog batch per partition (the sample spans 3) per transaction, not one per event.
    sent = [topic for outs in first + second for topic, *_ in outs]
    assert sent.count(NAMES.revisions) == 6
    assert parallel.counts == alone.counts
    assert parallel.counts.superseded > 0
    assert parallel.rejections == alone.rejections
    assert sum(alone.rejections.values()) == 4


def test_abandoned_batch_leaves_nothing_behind_for_the_next() -> None:
    """An aborted transaction stops reading mid-batch; the retry gives the full outputs."""
    messages = _messages()[:600]
    alone = _processor(0)
    expected = _one_by_one(alone, messages)

    parallel = _processor(2)
    parallel.start()
    try:
        results = parallel.process_many(messages)
        for _ in range(120):
            next(results)
        del results
        parallel.abort()
        retried = [_flat(outs) for outs in parallel.process_many(messages)]
    finally:
        parallel.close()

    assert retried == expected


def test_process_many_without_started_workers_runs_in_this_process() -> None:
    messages = _messages()[:50]
    processor = _processor(2)  # never started: no worker process exists
    got = [_flat(outs) for outs in processor.process_many(messages)]
    assert got == _one_by_one(_processor(0), messages)


def test_negative_worker_count_is_refused() -> None:
    with pytest.raises(ValueError, match="workers"):
        _processor(-1)
