"""The emitter against the real broker: every kind round-trips through Kafka and the codec."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from data_files import CHICAGO_CSV
from openbeat.contracts.codec import KIND_SCHEMAS, SchemaStore
from openbeat.contracts.examples import example_engagement, example_incident, example_report
from openbeat.contracts.json_input import decode_json, to_json_bytes
from openbeat.emit.producer import RawSender, event_key
from openbeat.paths import SCHEMAS_DIR
from openbeat.runtime.clients import make_producer

pytestmark = pytest.mark.integration

EXAMPLES: dict[str, Callable[..., dict[str, Any]]] = {
    "incident": example_incident,
    "report": example_report,
    "engagement": example_engagement,
}


@pytest.fixture(scope="module")
def schemas() -> SchemaStore:
    return SchemaStore.load(SCHEMAS_DIR)


@pytest.mark.parametrize("kind", sorted(EXAMPLES))
def test_every_kind_round_trips_through_the_broker(
    kind: str,
    kafka_bootstrap: str,
    topic_names: Any,
    consume: Callable[..., list],
    schemas: SchemaStore,
) -> None:
    record = EXAMPLES[kind]()
    sender = RawSender(make_producer(kafka_bootstrap, client_id="test"), schemas, topic_names)
    sender.send(kind, record)
    sender.flush()
    sender.producer.close()

    [message] = consume(topic_names.raw(kind), expect=1)

    assert sender.tally.acknowledged[kind] == 1 and sender.tally.total_failed == 0
    assert message.key == event_key(kind, record)
    assert message.value[:2] == b"\xc3\x01"
    assert schemas.decode(message.value, KIND_SCHEMAS[kind]).record == record


def test_json_event_round_trips_with_its_content_type(
    kafka_bootstrap: str, topic_names: Any, consume: Callable[..., list], schemas: SchemaStore
) -> None:
    record = example_incident()
    producer = make_producer(kafka_bootstrap, client_id="test")
    producer.send(
        topic_names.raw("incident"),
        value=to_json_bytes(record),
        key=event_key("incident", record),
        headers=[("content-type", b"application/json")],
    )
    producer.flush()
    producer.close()

    [message] = consume(topic_names.raw("incident"), expect=1)

    assert dict(message.headers)["content-type"] == b"application/json"
    assert decode_json(message.value, KIND_SCHEMAS["incident"], schemas) == record


def test_old_writer_version_is_read_into_the_current_schema(
    kafka_bootstrap: str, topic_names: Any, consume: Callable[..., list], schemas: SchemaStore
) -> None:
    record = example_incident()
    v1_fields = {f["name"] for f in schemas.schema(KIND_SCHEMAS["incident"], 1).raw["fields"]}
    old = {k: v for k, v in record.items() if k in v1_fields}
    producer = make_producer(kafka_bootstrap, client_id="test")
    producer.send(
        topic_names.raw("incident"), value=schemas.encode(KIND_SCHEMAS["incident"], old, version=1)
    )
    producer.flush()
    producer.close()

    [message] = consume(topic_names.raw("incident"), expect=1)
    decoded = schemas.decode(message.value, KIND_SCHEMAS["incident"])

    assert decoded.writer_version == 1
    assert decoded.record["beat"] is None and decoded.record["source_system"] is None
    assert {k: decoded.record[k] for k in old} == old


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "openbeat.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_emit_sample_sends_every_event(
    openbeat_env: dict[str, str], topic_names: Any, consume: Callable[..., list]
) -> None:
    result = _cli(openbeat_env, "emit", "--sample", "300", "--seed", "3", "--no-progress")

    assert result.returncode == 0, result.stderr
    assert "sent 300 events" in result.stdout
    total = sum(len(consume(topic_names.raw(k))) for k in EXAMPLES)
    assert total == 300


def test_emit_sample_is_deterministic_per_seed_down_to_the_topic_contents(
    openbeat_env: dict[str, str],
    topic_names: Any,
    consume: Callable[..., list],
    kafka_bootstrap: str,
    unique_name: Callable[[str], str],
) -> None:
    from openbeat.paths import TOPICS_FILE
    from openbeat.runtime.admin import apply_topics
    from openbeat.runtime.topics import TopicNames, load_topics

    other = TopicNames(unique_name("t"))
    apply_topics(kafka_bootstrap, load_topics(TOPICS_FILE, other))
    # Enough events for several chunks made by worker processes (see emit/prepare.py).
    n = "4500"
    hour = datetime.now(UTC).hour  # the sample is anchored to the current hour
    first = _cli(openbeat_env, "emit", "--sample", n, "--seed", "9", "--no-progress")
    env = {**openbeat_env, "OPENBEAT_TOPIC_NAMESPACE": other.namespace}
    second = _cli(env, "emit", "--sample", n, "--seed", "9", "--no-progress")
    if datetime.now(UTC).hour != hour:
        pytest.skip("the hour turned between the two runs, so their `now` differs")

    assert first.returncode == 0 and second.returncode == 0, first.stderr + second.stderr
    for kind in EXAMPLES:
        a = consume(topic_names.raw(kind))
        b = consume(other.raw(kind))
        assert a, kind
        assert sorted((m.partition, m.offset, m.key, m.value) for m in a) == sorted(
            (m.partition, m.offset, m.key, m.value) for m in b
        )


def test_import_sends_good_rows_and_reports_each_bad_one(
    openbeat_env: dict[str, str], topic_names: Any, consume: Callable[..., list], tmp_path: Path
) -> None:
    with CHICAGO_CSV.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    district, lat = header.index("District"), header.index("Latitude")
    good = [r for r in rows[1:200] if r[district] and r[lat]][:5]
    bad_date = list(good[0])
    bad_date[header.index("Date")] = "not a date"
    bad_district = list(good[1])
    bad_district[district] = "999"
    path = tmp_path / "export.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([header, *good, bad_date, bad_district])
    env = {**openbeat_env, "OPENBEAT_JURISDICTION": "chicago"}

    result = _cli(
        env,
        "emit",
        str(path),
        "--kind",
        "incident",
        "--mapping",
        "infra/mappings/chicago-crimes.toml",
        "--rejects",
        str(tmp_path / "export.csv.rejects.jsonl"),
        "--no-progress",
    )

    assert result.returncode == 0, result.stderr
    assert len(consume(topic_names.raw("incident"), expect=len(good))) == len(good)
    rejects = [
        json.loads(x) for x in (tmp_path / "export.csv.rejects.jsonl").read_text().splitlines()
    ]
    assert sorted(r["line"] for r in rejects) == [len(good) + 2, len(good) + 3]
    assert all(r["reason"] for r in rejects)
    assert "2 records rejected (2 rows)" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["emit", "nope.csv", "--kind", "incident"], "nope.csv"),
        (["emit", "--sample", "1", "nope.csv"], "either --sample"),
    ],
)
def test_cli_errors_are_one_line_without_traceback(
    openbeat_env: dict[str, str], args: list[str], expected: str
) -> None:
    result = _cli(openbeat_env, *args)

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert expected in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
