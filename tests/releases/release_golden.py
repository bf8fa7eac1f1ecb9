"""Digests of the incidents release cut from the shipped Chicago export, to keep releases
byte-identical across speed-ups (issue 13, item 5).

Input: `tests/data/chicago_crimes_2014-03.csv` through `infra/mappings/chicago-crimes.toml` and
the anonymizer (exactly as `tests/pipeline/anonymizer_golden.py` runs it), its public incident
records staged in parts of `PART_RECORDS` on three partitions as the publisher stages them,
then `Releaser.cut(["incidents"], CUTOFF)` into a local store: staged parts read back, latest
revision per id, the as-of-cutoff rule, sorting, Parquet + CSV, manifest, the release gate.
Every object the cut writes is hashed.

`tests/data/release_golden.json` was written by this file's `--write` run on the code before
releases were sorted in spilled runs and the row checks were sped up (commit 04e54ed). A
deliberate change of what is published regenerates it (same command) and says so in its commit.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parent / "pipeline"))

from anonymizer_golden import (  # noqa: E402
    CHICAGO_NOW,
    KEY,
    NAMES,
    _chicago_records,
    _processor,
)

from data_files import DATA  # noqa: E402
from message_fakes import FakeMessage  # noqa: E402
from openbeat.contracts.codec import KIND_SCHEMAS  # noqa: E402
from openbeat.contracts.jurisdiction import load_jurisdiction  # noqa: E402
from openbeat.emit.producer import event_key  # noqa: E402
from openbeat.pipeline.releasing import Releaser  # noqa: E402
from openbeat.privacy.policy import load_policy  # noqa: E402
from openbeat.privacy.pseudonym import key_id  # noqa: E402
from openbeat.releases.staging import stage_part  # noqa: E402
from openbeat.store import LocalStore  # noqa: E402

GOLDEN = DATA / "release_golden.json"
CUTOFF = datetime(2014, 5, 1, tzinfo=UTC)
PARTITIONS = 3
PART_RECORDS = 500


def _stage(private: LocalStore) -> int:
    """Anonymize the Chicago export and stage its public incidents; returns how many."""
    processor = _processor("chicago", CHICAGO_NOW)
    schemas = processor.core.schemas
    topic = NAMES.public("incident")
    per_partition: list[list[tuple[int, dict[str, Any]]]] = [[] for _ in range(PARTITIONS)]
    for offset, (kind, record) in enumerate(_chicago_records()):
        value = schemas.encode(KIND_SCHEMAS[kind], record)
        message = FakeMessage(NAMES.raw(kind), 0, offset, event_key(kind, record), value)
        for out in processor.process(message):
            if out.topic != topic:
                continue
            records = per_partition[hash_partition(out.key)]
            records.append((len(records), schemas.decode(out.value).record))
        processor.commit()
    for partition, records in enumerate(per_partition):
        for start in range(0, len(records), PART_RECORDS):
            part = records[start : start + PART_RECORDS]
            stage_part(private, "incidents", topic, partition, part[0][0], part[-1][0], part)
    return sum(len(records) for records in per_partition)


def hash_partition(key: bytes | None) -> int:
    """A fixed partition per key (the broker's own hash does not matter here)."""
    return int.from_bytes(hashlib.sha256(key or b"").digest()[:4], "big") % PARTITIONS


def compute() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="openbeat-release-golden-") as tmp:
        root = Path(tmp)
        public, private = LocalStore(root / "public"), LocalStore(root / "private")
        staged = _stage(private)
        releaser = Releaser(
            store=public,
            private=private,
            names=NAMES,
            jurisdiction=load_jurisdiction("chicago"),
            policy=load_policy(),
            base_url="https://data.chicago.example/openbeat/",
            license_url=None,
            pseudonym_key_id=key_id(KEY),
        )
        (result,) = releaser.cut(["incidents"], CUTOFF)
        if not result.ok:
            raise RuntimeError(f"the golden release failed: {result.errors}")
        files = {
            str(path.relative_to(root / "public")): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted((root / "public").rglob("*"))
            if path.is_file()
        }
    return {"staged_records": staged, "rows": result.rows, "files": files}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help=f"write {GOLDEN}")
    args = parser.parse_args()
    text = json.dumps(compute(), indent=2, sort_keys=True) + "\n"
    if args.write:
        GOLDEN.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
