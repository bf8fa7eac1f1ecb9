"""Fuzzing the anonymizer through the real broker: 10,000 malformed raw messages of many shapes
(tests/pipeline/fuzz_inputs.py) are produced to the raw topics and `openbeat run anonymizer
--until-idle` consumes them: every one is dead-lettered with a reason, the service exits 0 (no
crash, no endless abort and retry), and nothing reaches a public or restricted topic.

Before per-record failures were classified, 100 of 10,550 such messages (year-0001 events)
crashed the anonymizer on every restart, and an event at the request limit looped forever.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from fuzz_inputs import malformed_messages

from cli_helpers import run_cli
from openbeat.contracts.codec import SchemaStore
from openbeat.runtime.clients import make_producer

pytestmark = pytest.mark.integration

COUNT = 10_000
# Many more shapes than one would think of one by one; each must appear often.
MIN_SHAPES = 12


def test_ten_thousand_malformed_messages_are_all_dead_lettered(
    kafka_bootstrap: str,
    topic_names: Any,
    openbeat_env: dict[str, str],
    consume: Callable[..., list],
) -> None:
    messages = malformed_messages(SchemaStore.load(), COUNT, seed=10)
    shapes = Counter(shape for *_, shape in messages)
    assert len(messages) >= COUNT and len(shapes) >= MIN_SHAPES
    producer = make_producer(kafka_bootstrap, client_id="fuzz", linger_ms=50)
    futures = [
        producer.send(topic_names.raw(kind), key=key, value=value, headers=headers or None)
        for kind, key, value, headers, _ in messages
    ]
    producer.flush(timeout=120)
    sent = {
        (meta.topic, meta.partition, meta.offset): messages[i][4]
        for i, meta in enumerate(f.get(timeout=60) for f in futures)
    }
    producer.close()

    env = {**openbeat_env, "OPENBEAT_ANONYMIZER_WORKERS": "1"}
    result = run_cli(env, "run", "anonymizer", "--until-idle", check=False)

    assert result.returncode == 0, result.stderr[-3000:]
    assert f"anonymizer: consumed {len(messages)}" in result.stdout
    assert f"dead-lettered {len(messages)}" in result.stdout
    letters = consume(topic_names.deadletter, expect=len(messages), timeout_s=120)
    sources = Counter(
        (
            h["openbeat.source.topic"].decode(),
            int(h["openbeat.source.partition"]),
            int(h["openbeat.source.offset"]),
        )
        for h in (dict(letter.headers) for letter in letters)
    )
    assert set(sources) == set(sent), "every message dead-lettered"
    assert max(sources.values()) == 1, "and only once"
    for letter in letters:
        headers = dict(letter.headers)
        assert headers["openbeat.error.code"], "a reason code"
        assert headers["openbeat.error.detail"], "and a sentence"
    digested = [dict(x.headers) for x in letters if "openbeat.original.sha256" in dict(x.headers)]
    assert len(digested) == 1, "the message at the request limit is kept as its digest"
    for kind in ("incident", "report", "engagement"):
        assert consume(topic_names.public(kind), timeout_s=5) == []
    assert consume(topic_names.withheld_incidents, timeout_s=5) == []
    assert consume(topic_names.survey_responses, timeout_s=5) == []
