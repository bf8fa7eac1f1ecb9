"""The adversary's scenario (issue 9): a real pipeline, two releases, and what changed between.

Events go to the raw topics of a real broker; the anonymizer, publisher, aggregator and alerter
run as the CLI runs them (`--until-idle`) into a local store; `openbeat release` cuts release 1.
Then more input arrives, the kind an adversary waits for (one more confidential incident in a
cell, three more juvenile ones in a cell whose withheld part was moved, a sixth survey answer in
a published district-week, a late public row, the withdrawal of public incidents for three
different reasons, a second revision of a never-public incident), and release 2 is cut. The
attacks (test_*.py here) read only what a resident can read: the public files, the feeds and the
public topics.

Name canaries (issue 9.5): upcoming meetings carry person names that read like organisations
(tests/canaries.py) as partners and venue, beside names the sample's registry lists, and venue
and report addresses with a name after the street type.

Dates are 40 days in the past, so that with the default policy (7 days of publication delay, 7
of settle) day DAY is published and sealed by release 1.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from canaries import PERSON_NAMES
from cli_helpers import run_cli
from openbeat.contracts.codec import SchemaStore
from openbeat.contracts.examples import (
    example_engagement,
    example_incident,
    example_person,
    example_report,
    example_survey_response,
)
from openbeat.emit.producer import RawSender
from openbeat.privacy.pseudonym import pseudonym
from openbeat.runtime.clients import make_producer

KEY = "test-key-0123456789abcdef"
CANARY = "Zebulon Quixotic"
NOW = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
# Mid-morning local (America/Chicago) 40 days ago: the same local day as its UTC date.
AT = (NOW - timedelta(days=40)).replace(hour=16)
DAY = AT.date()


def incident(n: str, *, revision: int = 1, district: str = "D1", **extra: Any) -> dict[str, Any]:
    """A theft (23F, in the 'theft' category) with canaries wherever a raw incident holds text."""
    fields: dict[str, Any] = {
        "incident_id": f"ATK-{n}",
        "revision": revision,
        "reported_at": AT + timedelta(minutes=30),
        "occurred_at": AT,
        "district": district,
        "address": f"1234 W Main St {CANARY}",
        "narrative": f"{CANARY} saw it happen",
        "persons": [example_person(name=CANARY, email="zebulon@quixotic.example")],
        "officer_id": f"O-{CANARY}",
        "source_system": CANARY,
    }
    return example_incident(**{**fields, **extra})


def public_id(n: str) -> str:
    return pseudonym(KEY.encode(), "incident", "RPD", f"ATK-{n}")


def round_one() -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = []
    for i in range(6):
        events.append(("incident", incident(f"pub-{i}")))
    for i in range(5):  # shown in the D1 theft cell (5 >= k)
        events.append(("incident", incident(f"conf-{i}", confidential=True)))
    events.append(("incident", incident("pub-d2", district="D2")))
    for i in range(2):  # 2 < k: moved to the day's citywide withheld row
        events.append(("incident", incident(f"juv-{i}", district="D2", juvenile_involved=True)))
    for reason in ("withheld", "unfounded", "juvenile"):
        events.append(("incident", incident(f"leaves-{reason}")))
    events.append(("incident", incident("never-public", confidential=True)))
    events.append(
        (
            "report",
            example_report(
                submitted_at=AT,
                description=f"{CANARY} lives at 200 N Elm St",
                reporter={"name": CANARY, "email": "zq@example.org", "phone": "555-0199"},
            ),
        )
    )
    events.append(
        (
            "engagement",
            example_engagement(
                starts_at=AT,
                ends_at=AT + timedelta(hours=1),
                venue_name=f"Home of {CANARY}",
                venue_address=f"310 E Oak Ave, c/o {CANARY}",
                partner_organizations=[CANARY, "Eastgate Neighbors"],
            ),
        )
    )
    for i in range(5):
        events.append(("engagement", survey(i)))
    return events + named_meetings() + [("report", addressed_report())]


# Listed in infra/jurisdictions/names/sample.toml: these must be published, in this spelling.
LISTED_PARTNER, LISTED_VENUE = "Westbrook Neighbors Association", "Westbrook Public Library"


def named_meetings() -> list[tuple[str, dict[str, Any]]]:
    """Meetings in the next days (published at once, and in the meetings feeds and calendars),
    each with person names as partners and venue beside the registry's names."""
    events = []
    for i, name in enumerate(PERSON_NAMES):
        starts = NOW + timedelta(days=2 + i % 5, hours=1)
        record = example_engagement(
            engagement_id=f"ATK-NAMES-{i}",
            status="scheduled",
            starts_at=starts,
            ends_at=starts + timedelta(hours=1),
            attendee_count=None,
            district="D5",
            venue_name=LISTED_VENUE if i % 2 else name,
            venue_address=f"415 W Main St {CANARY} Ave",
            partner_organizations=[name, f"{LISTED_PARTNER.lower()}.", PERSON_NAMES[i - 1]],
        )
        events.append(("engagement", record))
    return events


def addressed_report() -> dict[str, Any]:
    return example_report(
        report_id="ATK-R-ADDR",
        submitted_at=AT,
        address=f"200 N Elm St {CANARY} Blvd",
        latitude=41.48,
        longitude=-88.36,
        district="D5",
    )


def survey(i: int) -> dict[str, Any]:
    return example_survey_response(
        engagement_id=f"ATK-SR-{i}",
        starts_at=AT + timedelta(minutes=i),
        district="D3",
        survey={"trust_score": 3 + i % 2, "safety_score": 4, "comment": f"{CANARY} was rude"},
        respondent={"name": CANARY, "email": "zq@example.org", "age_band": "25-34"},
    )


def round_two() -> list[tuple[str, dict[str, Any]]]:
    events: list[tuple[str, dict[str, Any]]] = [
        ("incident", incident("conf-late", confidential=True)),  # the 5 -> 6 attack
        ("engagement", survey(5)),  # the 6 x 3.17 - 18 attack
        # Reported today about day DAY: published as a row, not counted (late).
        ("incident", incident("late", reported_at=NOW - timedelta(days=8))),
        ("incident", incident("leaves-withheld", revision=2, confidential=True)),
        ("incident", incident("leaves-unfounded", revision=2, status="unfounded")),
        ("incident", incident("leaves-juvenile", revision=2, juvenile_involved=True)),
        ("incident", incident("never-public", revision=2, confidential=True)),
    ]
    for i in range(3):  # the 0 -> 5 attack: the moved part would now stay in the cell
        events.append(
            ("incident", incident(f"juv-late-{i}", district="D2", juvenile_involved=True))
        )
    return events


@dataclass
class Release:
    """What a resident downloads: every dataset's rows and changes, and the public tree."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class Scenario:
    env: dict[str, str]
    root: Path
    names: Any
    first: Release
    second: Release
    public_bytes: list[tuple[str, bytes]]  # every public file of the tree after release 2
    topic_messages: list[Any]  # every message of the public topics


def send(env: dict[str, str], names: Any, events: list[tuple[str, dict[str, Any]]]) -> None:
    sender = RawSender(
        make_producer(env["OPENBEAT_KAFKA_BOOTSTRAP"], client_id="attack"),
        SchemaStore.load(),
        names,
    )
    for kind, record in events:
        sender.send(kind, record)
    sender.flush()
    sender.producer.close()
    assert sender.tally.total_failed == 0


def run_pipeline(env: dict[str, str]) -> None:
    run_cli(env, "run", "anonymizer", "--until-idle")
    run_cli(env, "run", "publisher", "aggregator", "alerter", "--until-idle")


def cut(env: dict[str, str], root: Path) -> Release:
    cutoff = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    run_cli(env, "release", "--cutoff", cutoff)
    release = Release()
    for pointer in sorted(root.glob("datasets/*/latest.json")):
        dataset = pointer.parent.name
        release_id = json.loads(pointer.read_text())["release_id"]
        folder = pointer.parent / "releases" / release_id
        release.rows[dataset] = pq.read_table(next(folder.glob("data/*.parquet"))).to_pylist()
        changes = folder / "changes.json"
        release.changes[dataset] = json.loads(changes.read_text()) if changes.exists() else {}
    time.sleep(1.1)  # release ids are per second
    return release


def public_files(root: Path) -> list[tuple[str, bytes]]:
    """Every file a resident may read: the whole public root (catalog, datasets, feeds and the
    residents' site) but the store's own dot-files (.meta sidecars, never served)."""
    out = []
    for path in sorted(root.rglob("*")):
        key = path.relative_to(root)
        if path.is_file() and not any(part.startswith(".") for part in key.parts):
            out.append((str(key), path.read_bytes()))
    return out


def read_topic(bootstrap: str, topic: str) -> list[Any]:
    """Every committed message of a topic, as any subscriber of the public topics reads it."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, isolation_level="read_committed"
    )
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        out: list[Any] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if all(consumer.position(tp) >= ends[tp] for tp in partitions):
                break
            for messages in consumer.poll(timeout_ms=200).values():
                out.extend(messages)
        return out
    finally:
        consumer.close()
