"""Digests of what the anonymizer publishes for fixed inputs, to keep its outputs byte-identical
across speed-ups (issue 13, item 5).

Inputs: the synthetic sample (`generate_sample`, fixed seed and `now`: incidents with later
revisions, equal revisions sent again, withheld and sensitive ones, engagements cancelled,
surveys) in the sample jurisdiction, and the shipped Chicago export
(`tests/data/chicago_crimes_2014-03.csv` through `infra/mappings/chicago-crimes.toml`) in the
Chicago one. Each goes through `AnonymizerProcessor.process` message by message with one fixed
validation `now`, then every output except the revision changelog (whose layout is the
anonymizer's own business) is hashed per topic: key and value bytes, in order, and the message
timestamp.

`tests/data/anonymizer_golden.json` was written by this file's `--write` run on the code before
the change it guards. A deliberate change of what is published regenerates it (same command) and
says so in its commit.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from data_files import CHICAGO_CSV, DATA  # noqa: E402
from message_fakes import FakeMessage  # noqa: E402
from openbeat.contracts.codec import KIND_SCHEMAS, SchemaStore  # noqa: E402
from openbeat.contracts.jurisdiction import load_jurisdiction  # noqa: E402
from openbeat.contracts.offenses import load_offense_table  # noqa: E402
from openbeat.contracts.validation import ValidationContext  # noqa: E402
from openbeat.emit.importer import import_file  # noqa: E402
from openbeat.emit.producer import event_key  # noqa: E402
from openbeat.emit.sample import generate_sample  # noqa: E402
from openbeat.paths import INFRA_DIR  # noqa: E402
from openbeat.pipeline.anonymizer import AnonymizerProcessor  # noqa: E402
from openbeat.privacy.policy import load_policy  # noqa: E402
from openbeat.runtime.topics import TopicNames  # noqa: E402

GOLDEN = DATA / "anonymizer_golden.json"
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)
CHICAGO_NOW = datetime(2014, 4, 15, 12, 0, tzinfo=UTC)
KEY = b"golden-pseudonym-key-0123456789"
SAMPLE_EVENTS = 3000
NAMES = TopicNames("golden")


def _processor(jurisdiction: str, now: datetime) -> AnonymizerProcessor:
    processor = AnonymizerProcessor(
        names=NAMES,
        schemas=SchemaStore.load(),
        jurisdiction=load_jurisdiction(jurisdiction),
        offenses=load_offense_table(),
        policy=load_policy(),
        key=KEY,
        bootstrap="unused:9092",
        future_skew=timedelta(minutes=5),
    )
    ctx = processor.core.context(now)
    processor._validation_context = lambda: ctx  # type: ignore[method-assign]
    return processor


def _sample_records() -> Iterator[tuple[str, dict[str, Any]]]:
    sample = list(generate_sample(SAMPLE_EVENTS, 5, load_jurisdiction("sample"), NOW))
    yield from sample
    yield from sample[:200]  # equal revisions again: ignored


def _chicago_records() -> Iterator[tuple[str, dict[str, Any]]]:
    jurisdiction = load_jurisdiction("chicago")
    ctx = ValidationContext(jurisdiction, load_offense_table(), CHICAGO_NOW)
    mapping = INFRA_DIR / "mappings" / "chicago-crimes.toml"
    for result in import_file(CHICAGO_CSV, "incident", mapping, jurisdiction, ctx):
        if result.ok and result.record is not None:
            yield "incident", result.record


def _digests(processor: AnonymizerProcessor, records: Any) -> dict[str, Any]:
    schemas = processor.core.schemas
    hashes: dict[str, Any] = {}
    counts: dict[str, int] = {}
    for offset, (kind, record) in enumerate(records):
        value = schemas.encode(KIND_SCHEMAS[kind], record)
        message = FakeMessage(NAMES.raw(kind), offset % 3, offset, event_key(kind, record), value)
        for out in processor.process(message):
            if out.topic == NAMES.revisions:
                continue
            topic = out.topic.removeprefix(f"{NAMES.namespace}.")
            digest = hashes.setdefault(topic, hashlib.sha256())
            for part in (out.key or b"", out.value or b"", str(out.timestamp_ms).encode()):
                digest.update(len(part).to_bytes(4, "big") + part)
            counts[topic] = counts.get(topic, 0) + 1
        processor.commit()
    return {t: {"messages": counts[t], "sha256": hashes[t].hexdigest()} for t in sorted(hashes)}


def compute() -> dict[str, Any]:
    return {
        "sample": _digests(_processor("sample", NOW), _sample_records()),
        "chicago": _digests(_processor("chicago", CHICAGO_NOW), _chicago_records()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"write {GOLDEN}")
    args = parser.parse_args()
    digests = compute()
    text = json.dumps(digests, indent=2, sort_keys=True) + "\n"
    if args.write:
        GOLDEN.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
