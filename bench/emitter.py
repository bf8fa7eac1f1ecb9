"""Emitter throughput against kafka-python sending the same pre-encoded bytes with the same
producer settings (the ceiling any emitter on kafka-python can reach).

Three figures, measured interleaved (a noisy neighbour slows all alike), best of RUNS each:

- `baseline`: one loop of `producer.send(topic, value, key)` over events encoded beforehand,
  then `flush()`; producer construction is not timed.
- `emit_sample` (the headline, `ratio`): what `openbeat emit --sample N --seed S` does, timed
  from start to the last acknowledgement: fork the worker processes, generate the synthetic
  records, Avro-encode and key them, create the producer, send, flush and tally every delivery.
- `emitter_records_in_hand`: the agency path with records already in memory, in one process:
  Avro-encode, key, send, track every delivery, flush.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bench.common import bench_namespace, timed
from openbeat.contracts.codec import KIND_SCHEMAS, SchemaStore
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.emit.command import send_sample
from openbeat.emit.prepare import SamplePipeline, default_workers
from openbeat.emit.producer import RawSender, event_key
from openbeat.emit.sample import generate_sample
from openbeat.paths import SCHEMAS_DIR
from openbeat.runtime.clients import make_producer
from openbeat.runtime.topics import TopicNames

EVENTS = 50_000
SEED = 7
RUNS = 3


def run(bootstrap: str) -> dict[str, Any]:
    jurisdiction = load_jurisdiction("sample")
    schemas = SchemaStore.load(SCHEMAS_DIR)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with bench_namespace(bootstrap) as names:
        records = list(generate_sample(EVENTS, SEED, jurisdiction, now))
        pre = [
            (names.raw(kind), event_key(kind, rec), schemas.encode(KIND_SCHEMAS[kind], rec))
            for kind, rec in records
        ]

        def baseline() -> float:
            producer = make_producer(bootstrap, client_id="bench-baseline")
            seconds, _ = timed(lambda: _send_raw(producer, pre))
            producer.close()
            return seconds

        def in_hand() -> float:
            sender = RawSender(make_producer(bootstrap, client_id="bench-emitter"), schemas, names)

            def go() -> None:
                for kind, record in records:
                    sender.send(kind, record)
                sender.flush()

            seconds, _ = timed(go)
            _close(sender)
            return seconds

        def emit_sample() -> float:
            pipeline = SamplePipeline(EVENTS, SEED, jurisdiction, now, schemas)
            seconds, sender = timed(
                lambda: send_sample(pipeline, lambda: _new_sender(bootstrap, schemas, names))
            )
            _close(sender)
            return seconds

        base = sample = hand = float("inf")
        for _ in range(RUNS):
            base = min(base, baseline())
            sample = min(sample, emit_sample())
            hand = min(hand, in_hand())
    return {
        "events": EVENTS,
        "runs": f"best of {RUNS}, interleaved",
        "baseline": "kafka-python sending the same pre-encoded Avro bytes, same producer "
        "settings: send loop + flush (producer construction not timed)",
        "baseline_events_per_s": round(EVENTS / base),
        "emitter": "`openbeat emit --sample` path: fork workers, generate, Avro-encode, key, "
        "create producer, send, flush, tally every delivery (all timed)",
        "emitter_workers": default_workers(),
        "emitter_events_per_s": round(EVENTS / sample),
        "ratio": round(base / sample, 3),
        "emitter_records_in_hand": "records already in memory, one process: Avro-encode, key, "
        "send, track every delivery, flush",
        "emitter_records_in_hand_events_per_s": round(EVENTS / hand),
        "ratio_records_in_hand": round(base / hand, 3),
        "target_ratio": 0.7,
    }


def _new_sender(bootstrap: str, schemas: SchemaStore, names: TopicNames) -> RawSender:
    return RawSender(make_producer(bootstrap, client_id="bench-emitter"), schemas, names)


def _close(sender: RawSender) -> None:
    sender.producer.close()
    if sender.tally.total_failed:
        raise RuntimeError(f"emitter bench: {sender.tally.total_failed} sends failed")
    if sum(sender.tally.acknowledged.values()) != EVENTS:
        raise RuntimeError(f"emitter bench: {dict(sender.tally.acknowledged)} acknowledged")


def _send_raw(producer: Any, pre: list[tuple[str, bytes, bytes]]) -> None:
    for topic, key, value in pre:
        producer.send(topic, value=value, key=key)
    producer.flush()
