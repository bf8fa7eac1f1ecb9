"""A backfill's release is byte-identical to the one made by the one-process import.

The same Chicago export goes through two deployments (own topics, own store) on the real
broker: one imported by `openbeat emit FILE` (rows converted in worker processes, the file is
large enough for them), the other by the one-process path every import took before
(`import_file`, then one `RawSender.send` per record). Both then run the anonymizer and the
publisher and release `incidents` with the same cutoff. The release's data files (Parquet and
CSV) must be the same bytes; manifests differ only by the topic names they cite.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import run_cli
from data_files import CHICAGO_CSV
from openbeat.contracts.codec import SchemaStore
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.contracts.offenses import load_offense_table
from openbeat.contracts.validation import ValidationContext
from openbeat.emit.importer import import_file
from openbeat.emit.parallel import MIN_PARALLEL_BYTES
from openbeat.emit.producer import RawSender
from openbeat.paths import INFRA_DIR, TOPICS_FILE
from openbeat.runtime.admin import apply_topics
from openbeat.runtime.clients import make_producer
from openbeat.runtime.topics import TopicNames, load_topics
from openbeat.store import open_store

pytestmark = pytest.mark.integration

CHICAGO_MAP = INFRA_DIR / "mappings" / "chicago-crimes.toml"
CUTOFF = "2026-11-01T00:00:00Z"
ROWS = 3200


def _deployment(kafka_bootstrap: str, tmp_path: Path, name: str) -> tuple[dict[str, str], Any]:
    names = TopicNames(f"bf-{name}-{hashlib.sha1(str(tmp_path).encode()).hexdigest()[:8]}")
    apply_topics(kafka_bootstrap, load_topics(TOPICS_FILE, names))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBEAT_")}
    env |= {
        "OPENBEAT_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "OPENBEAT_TOPIC_NAMESPACE": names.namespace,
        "OPENBEAT_STORE": str(tmp_path / name / "store"),
        "OPENBEAT_PSEUDONYM_KEY": "test-key-0123456789abcdef",
        "OPENBEAT_JURISDICTION": "chicago",
        "OPENBEAT_PUBLIC_BASE_URL": "https://data.chicago.example/",
        "OPENBEAT_RELEASE_INTERVAL_S": "0",
    }
    return env, names


def _one_process_import(path: Path, env: dict[str, str], names: TopicNames) -> int:
    jurisdiction = load_jurisdiction("chicago")
    ctx = ValidationContext(jurisdiction, load_offense_table(), datetime.now(UTC))
    producer = make_producer(env["OPENBEAT_KAFKA_BOOTSTRAP"], client_id="test-one-process")
    sender = RawSender(producer, SchemaStore.load(), names)
    for result in import_file(path, "incident", CHICAGO_MAP, jurisdiction, ctx):
        if result.record is not None:
            sender.send("incident", result.record)
    sender.flush()
    producer.close()
    assert not sender.tally.total_failed
    return sum(sender.tally.acknowledged.values())


def _release_files(env: dict[str, str]) -> dict[str, str]:
    run_cli(env, "run", "anonymizer", "--until-idle")
    run_cli(env, "run", "publisher", "--until-idle")
    run_cli(env, "release", "--dataset", "incidents", "--cutoff", CUTOFF)
    store = open_store(env["OPENBEAT_STORE"])
    (manifest,) = [
        k for k in store.list("datasets/incidents/releases/") if k.endswith("/manifest.json")
    ]
    folder = manifest.removesuffix("manifest.json")
    return {
        key.removeprefix(folder): hashlib.sha256(store.get(key)).hexdigest()
        for key in store.list(folder)
        if key.endswith((".parquet", ".csv"))
    }


def test_backfill_release_is_byte_identical_to_the_one_process_import(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    export = tmp_path / "chicago.csv"
    lines = CHICAGO_CSV.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    export.write_text("".join(lines[: ROWS + 1]), encoding="utf-8")
    assert export.stat().st_size > MIN_PARALLEL_BYTES  # emit forks its workers for this file

    backfill, backfill_names = _deployment(kafka_bootstrap, tmp_path, "backfill")
    single, names = _deployment(kafka_bootstrap, tmp_path, "single")
    try:
        emitted = run_cli(
            backfill, "emit", str(export), "--kind", "incident", "--mapping", str(CHICAGO_MAP)
        )
        sent = _one_process_import(export, single, names)
        assert f"sent {sent} events" in emitted.stdout

        files = _release_files(backfill)
        assert "data.csv" in files and "data/part-00000.parquet" in files
        assert files == _release_files(single)
    finally:
        _delete_topics(kafka_bootstrap, backfill_names, names)


def _delete_topics(kafka_bootstrap: str, *namespaces: TopicNames) -> None:
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap, client_id="openbeat-tests")
    try:
        for names in namespaces:
            admin.delete_topics([s.name for s in load_topics(TOPICS_FILE, names)])
    except Exception:  # cleanup is best effort
        pass
    finally:
        admin.close()
