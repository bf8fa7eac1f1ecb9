"""The anonymizer against the real broker: dead letters, effectively-once across SIGKILL, and
scale-out with a rebalance midway.

Expected output is computed by running the same processor over the raw messages in one pass
with no crash; the real runs, crashed and restarted or split between processes, must produce
exactly that multiset of messages: nothing lost, nothing twice.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from openbeat.contracts.codec import KIND_SCHEMAS, SchemaStore
from openbeat.contracts.examples import example_incident
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.emit.producer import RawSender
from openbeat.emit.sample import generate_sample
from openbeat.paths import SCHEMAS_DIR
from openbeat.pipeline.wiring import build_anonymizer
from openbeat.runtime.clients import make_producer
from openbeat.runtime.settings import AnonymizerSettings

pytestmark = pytest.mark.integration

KINDS = ("incident", "report", "engagement")


def _send_sample(bootstrap: str, names: Any, n: int, seed: int) -> None:
    sender = RawSender(
        make_producer(bootstrap, client_id="test"), SchemaStore.load(SCHEMAS_DIR), names
    )
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for kind, record in generate_sample(n, seed, load_jurisdiction("sample"), now):
        sender.send(kind, record)
    sender.flush()
    sender.producer.close()
    assert sender.tally.total_failed == 0


def _send_bad(bootstrap: str, names: Any) -> dict[str, str]:
    """One event per kind of bad input; returns {key: expected dead-letter code}."""
    schemas = SchemaStore.load(SCHEMAS_DIR)
    good = schemas.encode(KIND_SCHEMAS["incident"], example_incident())
    json_good = json.loads(json.dumps({"incident_id": "J1", "agency_id": "RPD"}))
    json_header = [("content-type", b"application/json")]
    cases: list[tuple[str, bytes, list[tuple[str, bytes]], str]] = [
        ("bad:not-avro", b"hello, this is not avro", [], "not_single_object"),
        ("bad:fingerprint", b"\xc3\x01" + b"\x00" * 8 + good[10:], [], "unknown_fingerprint"),
        ("bad:truncated", good[: len(good) // 2], [], "truncated"),
        ("bad:huge", good[:10] + b"\x00" * (1024 * 1024 + 10), [], "too_large"),
        ("bad:not-object", b"[1, 2, 3]", json_header, "json_not_object"),
        ("bad:utf8", b'{"incident_id": "\xff\xfe"}', json_header, "invalid_utf8"),
        ("bad:missing", json.dumps(json_good).encode(), json_header, "missing_field"),
        (
            "bad:type",
            json.dumps({**json.loads(_json_incident()), "revision": "two"}).encode(),
            json_header,
            "wrong_type",
        ),
        (
            "bad:district",
            schemas.encode(KIND_SCHEMAS["incident"], example_incident(district="ZZ")),
            [],
            "unknown_district",
        ),
    ]
    producer = make_producer(bootstrap, client_id="test-bad")
    for key, value, headers, _ in cases:
        producer.send(names.raw("incident"), value=value, key=key.encode(), headers=headers)
    producer.flush()
    producer.close()
    return {key: code for key, _, _, code in cases}


def _json_incident() -> str:
    from openbeat.contracts.json_input import to_json_bytes

    return to_json_bytes(example_incident(incident_id="RPD-JSON-1")).decode()


def _settings(env: dict[str, str]) -> AnonymizerSettings:
    values = {k[len("OPENBEAT_") :].lower(): v for k, v in env.items() if k.startswith("OPENBEAT_")}
    return AnonymizerSettings(**values)


def _expected(env: dict[str, str], names: Any, consume: Callable[..., list]) -> Counter[tuple]:
    """What one uninterrupted pass over the raw topics publishes."""
    processor = build_anonymizer(_settings(env))
    expected: Counter[tuple] = Counter()
    for kind in KINDS:
        for message in consume(names.raw(kind)):
            for out in processor.process(message):
                if out.topic != names.revisions:
                    expected[(out.topic, out.key, out.value)] += 1
    return expected


def _actual(names: Any, consume: Callable[..., list], expect: int) -> Counter[tuple]:
    topics = [names.public(k) for k in KINDS]
    topics += [names.withheld_incidents, names.survey_responses, names.deadletter]
    actual: Counter[tuple] = Counter()
    for topic in topics:
        for m in consume(topic):
            actual[(m.topic, m.key, m.value)] += 1
    return actual


def _assert_exactly_once(expected: Counter[tuple], actual: Counter[tuple]) -> None:
    missing, extra = expected - actual, actual - expected
    by_topic = Counter(t for (t, _, _), n in missing.items() for _ in range(n))
    extra_topic = Counter(t for (t, _, _), n in extra.items() for _ in range(n))
    twice = sum(1 for key in extra if key in expected)
    assert not missing and not extra, (
        f"lost {dict(by_topic)}; extra {dict(extra_topic)} ({twice} duplicates of expected); "
        f"expected {sum(expected.values())}, got {sum(actual.values())}"
    )


def _start(env: dict[str, str], instance: str, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "openbeat.cli", "run", "anonymizer", "--instance", instance, *extra],
        env={**env, "OPENBEAT_MAX_BATCH": "100", "OPENBEAT_LOG_LEVEL": "INFO"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


class _LogWatch:
    """Collects a child's stderr on a thread so a test can wait for a log line without a pipe
    filling up or a fixed sleep."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        self._lines: list[str] = []
        self._stream = proc.stderr
        self._thread = threading.Thread(target=self._pump, daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        for line in iter(self._stream.readline, b""):
            self._lines.append(line.decode(errors="replace"))

    def text(self) -> str:
        return "".join(self._lines)

    def wait_for(self, needle: str, timeout: float = 120.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text():
                return True
            if not self._thread.is_alive():
                return needle in self.text()
            time.sleep(0.2)
        return False


def _run_until_idle(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [sys.executable, "-m", "openbeat.cli", "run", "anonymizer", "--until-idle"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_bad_input_is_dead_lettered_with_its_reason_and_bytes_intact(
    kafka_bootstrap: str,
    topic_names: Any,
    openbeat_env: dict[str, str],
    consume: Callable[..., list],
) -> None:
    expected_codes = _send_bad(kafka_bootstrap, topic_names)
    _send_sample(kafka_bootstrap, topic_names, 30, seed=5)
    raw = {m.key: m for m in consume(topic_names.raw("incident"))}

    result = _run_until_idle(openbeat_env)

    letters = consume(topic_names.deadletter, expect=len(expected_codes))
    by_key = {m.key.decode(): m for m in letters}
    assert {
        k: dict(by_key[k].headers)["openbeat.error.code"].decode() for k in expected_codes
    } == expected_codes
    for key in expected_codes:
        letter, original = by_key[key], raw[key.encode()]
        headers = dict(letter.headers)
        assert letter.value == original.value
        assert headers["openbeat.error.detail"]
        assert headers["openbeat.source.topic"].decode() == topic_names.raw("incident")
        assert int(headers["openbeat.source.partition"]) == original.partition
        assert int(headers["openbeat.source.offset"]) == original.offset
        for name, value in original.headers:
            assert headers[name] == value
    assert len(letters) == len(expected_codes)
    assert "dead-lettered 9" in result.stdout
    # The service kept going: the good events after the bad ones were published.
    assert len(consume(topic_names.public("incident"))) > 0


def test_sigkill_midway_repeatedly_loses_nothing_and_duplicates_nothing(
    kafka_bootstrap: str,
    topic_names: Any,
    openbeat_env: dict[str, str],
    consume: Callable[..., list],
) -> None:
    _send_sample(kafka_bootstrap, topic_names, 4000, seed=11)
    _send_bad(kafka_bootstrap, topic_names)
    # Re-sending a slice of the sample: equal revisions must be ignored, even across crashes.
    _send_sample(kafka_bootstrap, topic_names, 500, seed=11)
    expected = _expected(openbeat_env, topic_names, consume)

    kills = 0
    for delay in (2.5, 1.5, 2.0, 1.0):
        proc = _start(openbeat_env, "crash")
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
    _run_until_idle({**openbeat_env, "OPENBEAT_INSTANCE_ID": "crash"})

    actual = _actual(topic_names, consume, sum(expected.values()))
    assert kills >= 2
    _assert_exactly_once(expected, actual)


def test_two_instances_split_partitions_and_survive_a_rebalance(
    kafka_bootstrap: str,
    topic_names: Any,
    openbeat_env: dict[str, str],
    consume: Callable[..., list],
) -> None:
    _send_sample(kafka_bootstrap, topic_names, 3000, seed=21)
    expected = _expected(openbeat_env, topic_names, consume)

    first = _start(openbeat_env, "a")
    first_log = _LogWatch(first)
    assert first_log.wait_for("partitions assigned"), first_log.text()[-3000:]
    second = _start(openbeat_env, "b")  # joins midway: the group rebalances
    second_log = _LogWatch(second)
    # Wait for the rebalance itself rather than a fixed time: on a loaded machine a join can take
    # tens of seconds, and stopping before it gives a test of one copy, not two.
    assert second_log.wait_for("partitions assigned"), second_log.text()[-3000:]
    assert first_log.wait_for("partitions revoked"), first_log.text()[-3000:]
    for proc in (first, second):
        proc.send_signal(signal.SIGTERM)
    for proc in (first, second):
        proc.wait(timeout=120)
    logs = [first_log.text(), second_log.text()]
    _run_until_idle(openbeat_env)

    actual = _actual(topic_names, consume, sum(expected.values()))
    _assert_exactly_once(expected, actual)
    # Both copies owned partitions at some point, and the first gave some up when the second came.
    assert all("partitions assigned" in log for log in logs)
    assert "partitions revoked" in logs[0]
