"""The publisher runs the release gate before anything is uploaded (issue 9.6).

A release that fails it is never published: no object of it reaches the public root, latest.json
and the catalog stay where they were, the log says why in one line, and `openbeat release` exits
non-zero. Without the gate each of these releases was published.
"""

from __future__ import annotations

import dataclasses
import os
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import run_cli
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.pipeline.releasing import Releaser
from openbeat.privacy.grid import snap
from openbeat.privacy.policy import load_policy
from openbeat.privacy.pseudonym import DEV_KEY_ID, key_id
from openbeat.releases import stage_part
from openbeat.releases.gate import Gate
from openbeat.runtime.topics import TopicNames
from openbeat.store import LocalStore

NAMES = TopicNames("unitgate")
DAY = date(2026, 11, 2)
CUTOFF = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SECRET = "a-secret-pseudonym-key-for-gate-tests"


def _incident(n: int, **changes: Any) -> dict[str, Any]:
    lat, lon = snap(41.4835, -88.2811, 250)
    return {
        "public_id": f"{n:032x}",
        "revision": 1,
        "withdrawn": False,
        "category": "theft",
        "offense_code": "23H",
        "offense_count": 1,
        "offense_codes": [],
        "reported_date": DAY,
        "occurred_date": DAY,
        "occurred_hour": datetime(2026, 11, 2, 15, tzinfo=UTC),
        "block": "012XX W MAIN ST",
        "district": "D1",
        "latitude": lat,
        "longitude": lon,
        "location_precision": "block",
        "status": "open",
    } | changes


def _stage(private: LocalStore, records: list[dict[str, Any]]) -> None:
    topic = NAMES.public("incident")
    stage_part(private, "incidents", topic, 0, 0, len(records) - 1, enumerate(records))


def _releaser(tmp_path: Path, records: list[dict[str, Any]], **changes: Any) -> Releaser:
    store, private = LocalStore(tmp_path / "store"), LocalStore(tmp_path / "private", True)
    _stage(private, records)
    releaser = Releaser(
        store=store,
        private=private,
        names=NAMES,
        jurisdiction=load_jurisdiction("sample"),
        policy=load_policy(),
        base_url="https://data.example.org",
        license_url=None,
        pseudonym_key_id=key_id(SECRET.encode()),
    )
    return dataclasses.replace(releaser, **changes)


def _published(releaser: Releaser) -> list[str]:
    return releaser.store.list("datasets/incidents/")


def test_a_good_release_passes_the_gate(tmp_path: Path) -> None:
    releaser = _releaser(tmp_path, [_incident(i) for i in range(8)])
    [result] = releaser.cut(["incidents"], CUTOFF)
    assert result.ok, result.errors
    assert "datasets/incidents/latest.json" in _published(releaser)


@pytest.mark.parametrize(
    "change",
    [
        {"latitude": 41.483512, "longitude": -88.281123},  # an exact point
        {"block": "JOHN SMITH RESIDENCE"},
        {"block": "012XX W MAIN ST ZEBULON QUIXOTIC"},  # a name after the street type
    ],
)
def test_a_release_failing_the_gate_is_never_published(
    tmp_path: Path, change: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    releaser = _releaser(tmp_path, [_incident(1), _incident(2, **change)])
    [result] = releaser.cut(["incidents"], CUTOFF)
    assert not result.ok
    assert all("failed the release gate" in e for e in result.errors), result.errors
    assert _published(releaser) == []  # not one object of it, no latest.json
    assert not releaser.store.exists("catalog/data.json")
    assert any("NOT published" in r.getMessage() for r in caplog.records)


def test_the_development_key_needs_allow_dev_key(tmp_path: Path) -> None:
    releaser = _releaser(tmp_path, [_incident(1)], pseudonym_key_id=DEV_KEY_ID)
    [result] = releaser.cut(["incidents"], CUTOFF)
    assert not result.ok and "development pseudonym key" in result.errors[0]
    assert _published(releaser) == []
    allowed = dataclasses.replace(releaser, gate=Gate(allow_dev_key=True))
    [result] = allowed.cut(["incidents"], CUTOFF)
    assert result.ok, result.errors


def test_openbeat_release_exits_non_zero_on_a_refused_release(tmp_path: Path) -> None:
    private = LocalStore(tmp_path / "private", True)
    _stage(private, [_incident(1), _incident(2, block="JOHN SMITH RESIDENCE")])
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBEAT_")}
    env |= {
        "OPENBEAT_STORE": str(tmp_path / "store"),
        "OPENBEAT_PRIVATE_STORE": str(tmp_path / "private"),
        "OPENBEAT_TOPIC_NAMESPACE": NAMES.namespace,
        "OPENBEAT_PSEUDONYM_KEY": SECRET,
        "OPENBEAT_SITE": "false",
    }
    result = run_cli(
        env, "release", "--dataset", "incidents", "--cutoff", "2026-11-25T12:00:00Z", check=False
    )
    assert result.returncode != 0, result.stdout
    assert "failed the release gate" in result.stdout and "JOHN SMITH RESIDENCE" in result.stdout
    assert not (tmp_path / "store" / "datasets" / "incidents" / "latest.json").exists()


def test_the_scheduled_publisher_counts_a_refused_release(tmp_path: Path) -> None:
    """The publisher's schedule: a refused release is an ERROR line and a metric
    (openbeat_releases_failed_total reads `releases_failed`), and latest.json never moves."""
    from openbeat.contracts.codec import SchemaStore
    from openbeat.pipeline.publisher import PublisherProcessor
    from openbeat.pipeline.releasing import describe

    bad = [_incident(2, block="JOHN SMITH RESIDENCE"), _incident(3, latitude=41.4835)]
    releaser = _releaser(tmp_path, [_incident(1), *bad])
    publisher = PublisherProcessor(
        names=NAMES,
        schemas=SchemaStore.load(),
        private=releaser.private,
        release=lambda cutoff: [
            line for result in releaser.cut(["incidents"], CUTOFF) for line in describe(result)
        ],
        release_interval_s=3600,
        clock=lambda: CUTOFF,
    )
    publisher.flush(final=True)  # waits for the release thread
    assert publisher.releases_failed == 1  # one release, however many problems
    assert _published(releaser) == []
