"""Emitter throughput: sample events generated, Avro-encoded and sent, against kafka-python
sending the same pre-encoded bytes with the same producer settings (the ceiling we can reach)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from bench.common import bench_namespace, best_of, timed
from openbeat.contracts.codec import KIND_SCHEMAS, SchemaStore
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.emit.producer import RawSender, event_key
from openbeat.emit.sample import generate_sample
from openbeat.paths import SCHEMAS_DIR
from openbeat.runtime.clients import make_producer

EVENTS = 50_000
RUNS = 3


def run(bootstrap: str) -> dict[str, Any]:
    jurisdiction = load_jurisdiction("sample")
    schemas = SchemaStore.load(SCHEMAS_DIR)
    now = datetime(2026, 11, 1, tzinfo=UTC)
    with bench_namespace(bootstrap) as names:
        pre = [
            (names.raw(kind), event_key(kind, rec), schemas.encode(KIND_SCHEMAS[kind], rec))
            for kind, rec in generate_sample(EVENTS, 7, jurisdiction, now)
        ]

        def baseline() -> float:
            producer = make_producer(bootstrap, client_id="bench-baseline")
            seconds, _ = timed(lambda: _send_raw(producer, pre))
            producer.close()
            return seconds

        def emitter() -> float:
            producer = make_producer(bootstrap, client_id="bench-emitter")
            sender = RawSender(producer, schemas, names)

            def go() -> None:
                for kind, record in generate_sample(EVENTS, 7, jurisdiction, now):
                    sender.send(kind, record)
                sender.flush()

            seconds, _ = timed(go)
            producer.close()
            if sender.tally.total_failed:
                raise RuntimeError(f"emitter bench: {sender.tally.total_failed} sends failed")
            return seconds

        base = best_of(RUNS, baseline)
        emit = best_of(RUNS, emitter)
    return {
        "events": EVENTS,
        "baseline": "kafka-python sending the same pre-encoded Avro bytes, same producer settings",
        "baseline_events_per_s": round(EVENTS / base),
        "emitter_events_per_s": round(EVENTS / emit),
        "ratio": round(base / emit, 3),
        "target_ratio": 0.7,
    }


def _send_raw(producer: Any, pre: list[tuple[str, bytes, bytes]]) -> None:
    for topic, key, value in pre:
        producer.send(topic, value=value, key=key)
    producer.flush()
