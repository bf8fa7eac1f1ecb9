"""What the chaos run is judged by: its output against a clean run of the same input.

Every stage is compared as a multiset of records (canonical JSON), so a record missing from the
chaos run counts as lost and one present more often than in the clean run as duplicated:

- the anonymizer's output topics (public and restricted), decoded;
- the publisher's staging (`read_staged`), and inside the chaos run the staged offsets against
  the offsets on the public topics (a gap there is a record the releases will never show);
- the final release of every dataset: data file bytes, and the row multiset;
- the alerter's feeds (RSS, Atom, JSON Feed), byte for byte.
"""

from __future__ import annotations

import io
import json
import logging
import time
from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from openbeat.contracts.codec import SchemaStore
from openbeat.releases import DATASET_SOURCES, read_staged
from openbeat.runtime.topics import KINDS, TopicNames
from openbeat.store import ObjectNotFound, ObjectStore, open_store

logger = logging.getLogger(__name__)


# The anonymizer's outputs that later stages read.
def output_topics(names: TopicNames) -> list[str]:
    return [*(names.public(k) for k in KINDS), names.withheld_incidents, names.survey_responses]


def canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))


def read_topic(bootstrap: str, topic: str, timeout_s: float = 120.0) -> list[Any]:
    """Every committed message of a topic (all partitions), read without a consumer group."""
    from kafka import KafkaConsumer, TopicPartition

    consumer = KafkaConsumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    try:
        parts = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic))]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        out: list[Any] = []
        deadline = time.monotonic() + timeout_s
        while any(consumer.position(tp) < ends[tp] for tp in parts):
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic} took over {timeout_s:.0f}s")
            for messages in consumer.poll(timeout_ms=500).values():
                out.extend(messages)
        return out
    finally:
        consumer.close()


def copy_topics(bootstrap: str, pairs: Iterable[tuple[str, str]]) -> int:
    """Copy each source topic into its target, partition for partition and in order (keys,
    values and headers as they are): the clean run is fed exactly what the chaos run got."""
    from kafka import KafkaProducer

    producer = KafkaProducer(
        bootstrap_servers=bootstrap,
        acks="all",
        enable_idempotence=True,
        linger_ms=50,
        max_in_flight_requests_per_connection=1,
        max_request_size=8 * 1024 * 1024,
    )
    copied = 0
    try:
        for source, target in pairs:
            for m in read_topic(bootstrap, source):
                producer.send(
                    target, key=m.key, value=m.value, headers=m.headers, partition=m.partition
                )
                copied += 1
        producer.flush(timeout=120)
    finally:
        producer.close()
    return copied


def diff(chaos: Counter[str], clean: Counter[str]) -> dict[str, int]:
    lost = clean - chaos
    extra = chaos - clean
    return {
        "chaos": sum(chaos.values()),
        "clean": sum(clean.values()),
        "lost": sum(lost.values()),
        "duplicated": sum(extra.values()),
    }


def topic_records(bootstrap: str, topic: str, schemas: SchemaStore) -> Counter[str]:
    return Counter(canonical(schemas.decode(m.value).record) for m in read_topic(bootstrap, topic))


def compare_topics(
    bootstrap: str, chaos: TopicNames, clean: TopicNames, schemas: SchemaStore
) -> dict[str, dict[str, int]]:
    out = {}
    for a, b in zip(output_topics(chaos), output_topics(clean), strict=True):
        short = a.removeprefix(chaos.namespace + ".")
        out[short] = diff(
            topic_records(bootstrap, a, schemas), topic_records(bootstrap, b, schemas)
        )
    return out


def compare_staging(
    bootstrap: str, chaos: ObjectStore, clean: ObjectStore, names: TopicNames
) -> dict[str, dict[str, int]]:
    """Staged records of both runs, and the chaos run's staged offsets against its topics."""
    out = {}
    topic_of = {"incidents": "incident", "reports": "report", "engagements": "engagement"}
    for source in sorted(set(DATASET_SOURCES.values())):
        chaos_items = list(read_staged(chaos, source))
        figures = diff(
            Counter(canonical(s.record) for s in chaos_items),
            Counter(canonical(s.record) for s in read_staged(clean, source)),
        )
        staged = Counter((s.topic, s.partition, s.offset) for s in chaos_items)
        on_topic = {
            (m.topic, m.partition, m.offset)
            for m in read_topic(bootstrap, names.public(topic_of[source]))
        }
        figures["offsets_missing"] = len(on_topic - set(staged))
        figures["offsets_twice"] = sum(n - 1 for n in staged.values() if n > 1)
        out[source] = figures
    return out


def _latest(store: ObjectStore, dataset: str) -> dict[str, Any] | None:
    try:
        return dict(json.loads(store.get(f"datasets/{dataset}/latest.json")))
    except ObjectNotFound:
        return None


def _rows(store: ObjectStore, key: str) -> Counter[str]:
    import pyarrow.parquet as pq

    table = pq.read_table(io.BytesIO(store.get(key)))
    return Counter(canonical(row) for row in table.to_pylist())


def compare_releases(chaos: ObjectStore, clean: ObjectStore, datasets: Iterable[str]) -> dict:
    """Each dataset's latest release in both stores: same release id, same data bytes, and
    the row multisets (lost and duplicated rows) when the bytes differ."""
    out: dict[str, Any] = {}
    for dataset in datasets:
        a, b = _latest(chaos, dataset), _latest(clean, dataset)
        if b is None:
            out[dataset] = {"equal": a is None, "note": "the clean run released nothing"}
            continue
        if a is None:
            out[dataset] = {"equal": False, "note": "the chaos run released nothing"}
            continue
        figures: dict[str, Any] = {"release": b.get("release_id"), "files": {}}
        figures["same_release_id"] = a.get("release_id") == b.get("release_id")
        equal = bool(figures["same_release_id"])
        root_a = f"datasets/{dataset}/releases/{a.get('release_id')}"
        root_b = f"datasets/{dataset}/releases/{b.get('release_id')}"
        for name in ("data/part-00000.parquet", "data.csv"):
            try:
                same = chaos.get(f"{root_a}/{name}") == clean.get(f"{root_b}/{name}")
            except ObjectNotFound:
                same = False
            figures["files"][name] = same
            equal = equal and same
        rows = diff(
            _rows(chaos, f"{root_a}/data/part-00000.parquet"),
            _rows(clean, f"{root_b}/data/part-00000.parquet"),
        )
        figures["rows"] = rows
        figures["equal"] = equal and rows["lost"] == 0 and rows["duplicated"] == 0
        out[dataset] = figures
    return out


FEED_SUFFIXES = (".rss", ".atom", ".json")


def rendered_feeds(
    names: TopicNames, private: ObjectStore, scratch: Path, base_url: str, at: datetime
) -> dict[str, bytes]:
    """The feeds the alerter's checkpoint gives at the instant `at`, by the alerter's own code.

    A feed is a function of the records absorbed and of the time (24-hour spike windows, the
    meeting horizon, pruning), so two alerters that stopped a minute apart publish different
    bytes from the same records; rendered at one instant, equal states give equal feeds.
    """
    from openbeat.contracts.jurisdiction import load_jurisdiction
    from openbeat.feeds import load_alert_rules
    from openbeat.pipeline.alerter import AlerterProcessor

    processor = AlerterProcessor(
        names=names,
        schemas=SchemaStore.load(),
        store=open_store(scratch),
        private=private,
        rules=load_alert_rules(base_url=base_url),
        jurisdiction=load_jurisdiction("sample"),
        clock=lambda: at,
    )
    processor.write_feeds()
    keys = (p.relative_to(scratch).as_posix() for p in (scratch / "feeds").rglob("*"))
    return {k: (scratch / k).read_bytes() for k in keys if k.endswith(FEED_SUFFIXES)}


def keep_differences(where: Path, chaos: dict[str, bytes], clean: dict[str, bytes]) -> None:
    """Both versions of every differing object, for whoever diagnoses the run."""
    for key in chaos.keys() | clean.keys():
        if chaos.get(key) == clean.get(key):
            continue
        for side, objects in (("chaos", chaos), ("clean", clean)):
            if key in objects:
                path = where / side / key
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(objects[key])


def feed_objects(store: ObjectStore) -> dict[str, bytes]:
    """The alerter's feeds (the site's calendars beside them are not the alerter's output)."""
    return {k: store.get(k) for k in store.list("feeds/") if k.endswith(FEED_SUFFIXES)}


def compare_feeds(chaos: dict[str, bytes], clean: dict[str, bytes]) -> dict[str, Any]:
    differing = sorted(k for k in chaos.keys() & clean.keys() if chaos[k] != clean[k])
    only_chaos = sorted(chaos.keys() - clean.keys())
    only_clean = sorted(clean.keys() - chaos.keys())
    items = {}
    for key in differing:
        items[key] = _item_diff(chaos[key], clean[key])
    return {
        "feeds": len(clean),
        "equal": not (differing or only_chaos or only_clean) and bool(clean),
        "differing": differing,
        "only_chaos": only_chaos,
        "only_clean": only_clean,
        "item_diff": items,
    }


def _item_diff(a: bytes, b: bytes) -> dict[str, Any]:
    """How two versions of one feed differ in items (by guid / id), for the report, with the
    differing items' titles and dates (public feed text) to tell what diverged."""
    import feedparser

    entries_a = {e.get("id"): e for e in feedparser.parse(a).entries}
    entries_b = {e.get("id"): e for e in feedparser.parse(b).entries}
    ids_a, ids_b = Counter(entries_a), Counter(entries_b)

    def shown(entries: dict[Any, Any], ids: Counter[Any]) -> list[list[str]]:
        return sorted([str(entries[i].get("title")), str(entries[i].get("updated"))] for i in ids)

    return {
        "missing": sum((ids_b - ids_a).values()),
        "extra": sum((ids_a - ids_b).values()),
        "missing_items": shown(entries_b, ids_b - ids_a),
        "extra_items": shown(entries_a, ids_a - ids_b),
    }


DEFINITIONS = {
    "records_lost": "largest count over stages (topics, staging, release rows) of records the "
    "clean run has and the chaos run lacks; a record lost upstream is missing downstream too",
    "records_duplicated": "largest count over stages of records the chaos run has more often "
    "than the clean run",
    "recovery_s": "fault end (service restarted / broker serving / store reachable) to the "
    "first advance of the service's committed consumer-group offsets",
    "survived": "kills after which the service's committed offsets advanced within the "
    "recovery timeout",
    "unplanned_exits": "times a service exited on its own (restarted by the harness)",
    "baseline_s": "the clean run of the same input: `openbeat run --until-idle`, no faults",
    "equal": "every dataset's final release has the same data bytes and rows, the feeds "
    "rendered from both alerters' checkpoints at one instant are byte-identical, and no stage "
    "lost or duplicated a record (stages.feeds.published compares the feed files as published, "
    "written a few minutes apart: informational, a feed depends on the time)",
}


def verdict(stages: dict[str, Any]) -> dict[str, Any]:
    """records_lost, records_duplicated and equal, as DEFINITIONS says."""
    per_stage = [
        *stages["topics"].values(),
        *stages["staging"].values(),
        *(d["rows"] for d in stages["releases"].values() if "rows" in d),
    ]
    lost = max((s["lost"] for s in per_stage), default=0)
    duplicated = max((s["duplicated"] for s in per_stage), default=0)
    equal = (
        all(d.get("equal") for d in stages["releases"].values())
        and stages["feeds"]["equal"]
        and lost == 0
        and duplicated == 0
    )
    return {"records_lost": lost, "records_duplicated": duplicated, "equal": bool(equal)}
