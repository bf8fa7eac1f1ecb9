"""Publisher, release and alerter against the real broker: crash and restart find every public
record exactly once in the release, and the same feed items."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from cli_helpers import run_cli
from openbeat.contracts.codec import SchemaStore
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.privacy.policy import load_policy
from openbeat.releases import DATASET_SOURCES, read_staged
from openbeat.store import open_store

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]


def _prepare(env: dict[str, str], n: int) -> None:
    run_cli(env, "emit", "--sample", str(n), "--seed", "4", "--no-progress")
    run_cli(env, "run", "anonymizer", "--until-idle")


def _latest_public(names: Any, consume: Callable[..., list], kind: str) -> dict[str, dict]:
    """The latest revision of every public record of one kind, straight from the topic."""
    schemas = SchemaStore.load()
    latest: dict[str, dict] = {}
    for m in consume(names.public(kind)):
        rec = schemas.decode(m.value).record
        have = latest.get(rec["public_id"])
        if have is None or rec.get("revision", 1) > have.get("revision", 1):
            latest[rec["public_id"]] = rec
    return latest


def test_publisher_killed_while_staging_then_release_has_every_record_once(
    openbeat_env: dict[str, str], topic_names: Any, consume: Callable[..., list]
) -> None:
    env = {
        **openbeat_env,
        "OPENBEAT_RELEASE_INTERVAL_S": "0",
        "OPENBEAT_COMMIT_INTERVAL_S": "0.2",
        "OPENBEAT_MAX_BATCH": "50",
    }
    _prepare(env, 3000)
    kills = 0
    for delay in (2.0, 1.2, 1.6, 0.8):
        proc = subprocess.Popen(
            [sys.executable, "-m", "openbeat.cli", "run", "publisher"],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.wait(timeout=30)
    run_cli(env, "run", "publisher", "--until-idle")
    cutoff = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    run_cli(env, "release", "--cutoff", cutoff)

    store = open_store(env["OPENBEAT_STORE"])
    private = open_store(env["OPENBEAT_PRIVATE_STORE"])
    assert kills >= 2
    # Staging holds every public offset exactly once, whatever the crashes did to part boundaries.
    for kind, source in (
        ("incident", "incidents"),
        ("report", "reports"),
        ("engagement", "engagements"),
    ):
        staged = [(s.topic, s.partition, s.offset) for s in read_staged(private, source)]
        on_topic = [(m.topic, m.partition, m.offset) for m in consume(topic_names.public(kind))]
        assert sorted(staged) == sorted(on_topic)
    # The release has one row per live public record.
    latest = _latest_public(topic_names, consume, "incident")
    # Old enough to publish (the policy's publication delay, the one rule for it).
    day = load_policy().publication_day(
        datetime.fromisoformat(cutoff.replace("Z", "+00:00")), load_jurisdiction("sample").zone
    )
    live = {
        pid for pid, rec in latest.items() if not rec["withdrawn"] and rec["reported_date"] <= day
    }
    release = next(
        k for k in store.list("datasets/incidents/releases/") if k.endswith("/manifest.json")
    ).removesuffix("/manifest.json")
    table = pq.read_table(Path(env["OPENBEAT_STORE"]) / release / "data" / "part-00000.parquet")
    ids = table.column("public_id").to_pylist()
    assert len(ids) == len(set(ids))
    assert set(ids) == live
    assert DATASET_SOURCES["incidents"] == "incidents"


def test_alerter_restart_gives_the_same_feed_items(
    openbeat_env: dict[str, str], topic_names: Any, consume: Callable[..., list], tmp_path: Path
) -> None:
    import feedparser

    env = {**openbeat_env, "OPENBEAT_COMMIT_INTERVAL_S": "0.2", "OPENBEAT_MAX_BATCH": "100"}
    _prepare(env, 1500)
    store = Path(env["OPENBEAT_STORE"])
    proc = subprocess.Popen(
        [sys.executable, "-m", "openbeat.cli", "run", "alerter"],
        env=env,
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(2.5)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    run_cli(env, "run", "alerter", "--until-idle")
    # The published feeds never hold an item twice.
    for path in (store / "feeds").rglob("*"):
        if path.is_file() and path.suffix in (".rss", ".atom"):
            guids = [e.id for e in feedparser.parse(path.read_bytes()).entries]
            assert guids and len(guids) == len(set(guids)), path.name

    # The state the crashed-and-restarted alerter checkpointed, against the same public records
    # absorbed once with no crash, both rendered at one instant: feeds depend on the clock
    # (spike windows, ages, the publication delay), so two renders at different moments may
    # differ while the states are equal.
    now = datetime.now(UTC).replace(microsecond=0)
    after_crash = _feeds(
        env, topic_names, tmp_path / "after", now, open_store(env["OPENBEAT_PRIVATE_STORE"])
    )
    reference = _feeds(env, topic_names, tmp_path / "clean", now, None, consume)

    assert after_crash.keys() == reference.keys()
    for name, data in after_crash.items():
        if name.endswith(".json"):
            continue
        guids = [e.id for e in feedparser.parse(data).entries]
        assert guids == [e.id for e in feedparser.parse(reference[name]).entries], name
    assert feedparser.parse(after_crash["alerts.rss"]).entries


def _feeds(
    env: dict[str, str],
    names: Any,
    root: Path,
    now: datetime,
    checkpoint: Any,
    consume: Callable[..., list] | None = None,
) -> dict[str, bytes]:
    """The alerter's feeds rendered at `now`: from the checkpoint in the `checkpoint` store, or
    from every public record on the topics (`consume`) when there is none."""
    from openbeat.contracts.jurisdiction import load_jurisdiction
    from openbeat.feeds import load_alert_rules
    from openbeat.pipeline.alerter import AlerterProcessor

    processor = AlerterProcessor(
        names=names,
        schemas=SchemaStore.load(),
        store=open_store(root),
        private=checkpoint or open_store(root.with_name(root.name + "-private")),
        rules=load_alert_rules(),
        jurisdiction=load_jurisdiction("sample"),
        clock=lambda: now,
    )
    assert processor.restored == (checkpoint is not None)
    if consume is not None:
        for topic in processor.input_topics:
            for message in consume(topic):
                processor.process(message)
    # As every alerter flush does: what can no longer affect a feed is forgotten (the
    # restarted alerter pruned before its checkpoint, so an unpruned reference differs in
    # records no feed should show; a difference after pruning both is a real one).
    processor.state.prune(now, processor.rules)
    processor.write_feeds()
    return {
        p.name: p.read_bytes()
        for p in (root / "feeds").rglob("*")
        if p.is_file() and p.suffix != ".ics"
    }


def test_unchanged_feeds_are_not_rewritten(openbeat_env: dict[str, str]) -> None:
    _prepare(openbeat_env, 300)
    run_cli(openbeat_env, "run", "alerter", "--until-idle")
    feeds = Path(openbeat_env["OPENBEAT_STORE"]) / "feeds"
    before = {p: p.stat().st_mtime_ns for p in feeds.rglob("*") if p.is_file()}

    result = run_cli(openbeat_env, "run", "alerter", "--until-idle")

    assert {p: p.stat().st_mtime_ns for p in feeds.rglob("*") if p.is_file()} == before
    assert "0 objects written" in result.stdout


def test_verify_fails_on_a_tampered_release(openbeat_env: dict[str, str]) -> None:
    env = {**openbeat_env, "OPENBEAT_RELEASE_INTERVAL_S": "0"}
    _prepare(env, 300)
    run_cli(env, "run", "publisher", "aggregator", "--until-idle")
    run_cli(env, "release", "--dataset", "incidents")
    root = env["OPENBEAT_STORE"]
    assert run_cli(env, "verify", root).returncode == 0

    csv_path = next(Path(root).glob("datasets/incidents/releases/*/data.csv"))
    csv_path.write_bytes(csv_path.read_bytes() + b"x,contact me at jane.doe@example.com\r\n")
    result = run_cli(env, "verify", root, check=False)

    assert result.returncode == 1
    assert "data.csv" in result.stdout and "sha256" in result.stdout.lower()


def test_whole_pipeline_publishes_to_s3_and_verifies(
    openbeat_env: dict[str, str], s3_endpoint: str, s3_bucket: str
) -> None:
    env = {
        **openbeat_env,
        "OPENBEAT_STORE": f"s3://{s3_bucket}/open-data",
        "OPENBEAT_PRIVATE_STORE": f"s3://{s3_bucket}/state",
        "OPENBEAT_S3_ENDPOINT": s3_endpoint,
        "OPENBEAT_S3_ACCESS_KEY": "testing",
        "OPENBEAT_S3_SECRET_KEY": "testing",
        "OPENBEAT_RELEASE_INTERVAL_S": "0",
        "OPENBEAT_PUBLIC_BASE_URL": "https://data.example.org/open-data",
    }
    _prepare(env, 500)
    run_cli(env, "run", "aggregator", "publisher", "alerter", "--until-idle")
    cutoff = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    released = run_cli(env, "release", "--cutoff", cutoff)
    future = run_cli(env, "release", "--cutoff", "2999-01-01T00:00:00Z", check=False)
    verified = run_cli(env, "verify", env["OPENBEAT_STORE"])

    assert f"incidents: release {cutoff.replace(':', '')}" in released.stdout
    assert future.returncode == 2 and "in the future" in future.stderr
    assert "verify OK" in verified.stdout
    import boto3

    s3 = boto3.client(
        "s3",
        endpoint_url=s3_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    head = s3.head_object(Bucket=s3_bucket, Key="open-data/feeds/alerts.rss")
    assert head["ContentType"].startswith("application/rss+xml")
    assert "max-age" in head["CacheControl"]
    catalog = s3.get_object(Bucket=s3_bucket, Key="open-data/catalog/data.json")["Body"].read()
    assert b"https://data.example.org/open-data/datasets/incidents/" in catalog
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=s3_bucket)
    keys = [o["Key"] for page in pages for o in page.get("Contents", [])]
    assert any(k.startswith("state/staging/") for k in keys)
    assert any(k.startswith("state/_internal/") for k in keys)
    # The public prefix holds nothing private.
    public = [k for k in keys if k.startswith("open-data/")]
    assert public and not [k for k in public if "/staging/" in k or "/_internal/" in k]
