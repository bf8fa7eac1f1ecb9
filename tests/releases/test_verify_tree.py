"""verify_tree: passes a good tree, fails naming the object on tampering, gaps and planted PII."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from release_inputs import CUTOFF, incident_row, public_incident

from openbeat.releases import ReleaseContext, build_release, stage_part, verify_tree
from openbeat.releases.pii import PiiScanner
from openbeat.store import LocalStore, ObjectStore

PREFIX = "datasets/incidents/releases/2026-11-25T120000Z/"
PARQUET = PREFIX + "data/part-00000.parquet"
CSV = PREFIX + "data.csv"


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalStore(tmp_path / "root")
    s3: ObjectStore = request.getfixturevalue("s3_store")
    return s3


@pytest.fixture
def published(
    store: ObjectStore, context: ReleaseContext, incident_rows: list[dict[str, Any]]
) -> ObjectStore:
    assert build_release(store, "incidents", incident_rows, CUTOFF, context).ok
    counts = [
        {
            "date": r["occurred_date"],
            "district": r["district"],
            "category": r["category"],
            "count": None,
            "suppressed": True,
        }
        for r in incident_rows[:6]
    ]
    assert build_release(store, "incident-counts", counts, CUTOFF, context).ok
    store.put(
        "feeds/alerts.rss",
        b"<rss><channel><item><title>Burglary at 012XX W MAIN ST</title></item></channel></rss>",
        "application/rss+xml; charset=utf-8",
        cache_control="public, max-age=60",
    )
    return store


def _problems_for(report: Any, key: str) -> list[str]:
    return [p.message for p in report.problems if p.key == key]


def test_good_tree_passes(published: ObjectStore) -> None:
    report = verify_tree(published, forbidden_names=["Jane Roe"], raw_ids=["RPD-2026-000123"])
    assert report.ok, str(report)
    assert report.releases_checked == 2
    assert report.objects_scanned >= 10
    assert "verify OK" in str(report)


def test_tampered_csv_fails_naming_the_file(published: ObjectStore) -> None:
    data = published.get(CSV)
    published.put(CSV, data.replace(b"theft", b"thief", 1), "text/csv; charset=utf-8")
    report = verify_tree(published)
    assert not report.ok
    messages = _problems_for(report, CSV)
    assert any("sha256" in m for m in messages), str(report)
    assert any("differs from the Parquet file" in m for m in messages), str(report)
    assert f"{CSV}: sha256" in str(report)


def test_missing_parquet_fails_naming_the_file(published: ObjectStore) -> None:
    published.delete(PARQUET)
    report = verify_tree(published)
    assert not report.ok
    assert _problems_for(report, PARQUET) == ["listed in the manifest but missing"]


def test_missing_manifest_means_incomplete_release(published: ObjectStore) -> None:
    published.delete(PREFIX + "manifest.json")
    report = verify_tree(published)
    assert "missing: the release is incomplete" in _problems_for(report, PREFIX + "manifest.json")
    assert any("no " in m for m in _problems_for(report, "datasets/incidents/latest.json"))


def test_unlisted_file_in_a_release_fails(published: ObjectStore) -> None:
    published.put(PREFIX + "data/part-00001.parquet", b"PAR1", "application/vnd.apache.parquet")
    report = verify_tree(published)
    assert _problems_for(report, PREFIX + "data/part-00001.parquet") == [
        "not listed in the manifest"
    ]


def test_invalid_catalog_fails(published: ObjectStore) -> None:
    catalog = json.loads(published.get("catalog/data.json"))
    del catalog["dataset"][0]["contactPoint"]
    published.put("catalog/data.json", json.dumps(catalog).encode(), "application/json")
    report = verify_tree(published)
    assert any("contactPoint" in m for m in _problems_for(report, "catalog/data.json"))


def test_planted_email_in_a_release_fails(
    store: ObjectStore, context: ReleaseContext, incident_rows: list[dict[str, Any]]
) -> None:
    rows = [*incident_rows, incident_row(99, block="jane.roe@example.com")]
    assert build_release(store, "incidents", rows, CUTOFF, context).ok
    report = verify_tree(store)
    assert not report.ok
    for key in (PARQUET, CSV):
        assert any(
            "e-mail address" in m and "jane.roe@example.com" in m
            for m in _problems_for(report, key)
        ), str(report)


def test_pii_in_feeds_names_and_raw_ids_are_found(published: ObjectStore) -> None:
    published.put(
        "feeds/districts/D1.rss",
        b"<item><title>Call Jane Roe at (555) 123-4567 about 1006 Gerard Avenue</title>"
        b"<guid>RPD-2026-000123</guid></item>",
        "application/rss+xml; charset=utf-8",
    )
    report = verify_tree(published, forbidden_names=["Jane Roe"], raw_ids=["RPD-2026-000123"])
    messages = " | ".join(_problems_for(report, "feeds/districts/D1.rss"))
    assert "phone number" in messages
    assert "exact street address" in messages and "1006 Gerard Avenue" in messages
    assert "person name" in messages
    assert "agency (raw) id" in messages


@pytest.mark.parametrize(
    "text",
    [
        "012XX W MAIN ST",
        # The anonymizer's own block of houses 0-99 (Chicago's form): no false positive.
        "0000X N STATE ST",
        "Burglary at 0000X W MADISON ST, Downtown",
        "MAIN ST / 5TH AVE",
        "N OAK AVE & W 5TH ST",
        "2026-11-25T12:00:00Z",
        '"bytes": 40954, "sha256": "9a1234567890b3f4"',
        "41.48125,-88.28125",
        "opendata@riverton.example",
        "count 12 incidents",
    ],
)
def test_scanner_leaves_published_forms_alone(text: str) -> None:
    scanner = PiiScanner(allowed_emails=["opendata@riverton.example"])
    assert list(scanner.scan(text)) == []


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("reach me: someone@mail.example.org", "email"),
        ("555-867-5309", "phone"),
        ("+1 (312) 555 0199", "phone"),
        ("+44 20 7946 0958", "phone"),
        ("1006 GERARD AVENUE", "house_number"),
        ("12 N Main St", "house_number"),
        ("4521B S Ashland Ave", "house_number"),
    ],
)
def test_scanner_finds_personal_data(text: str, kind: str) -> None:
    assert kind in {f.kind for f in PiiScanner().scan(text)}


def test_wrong_content_type_fails(published: ObjectStore) -> None:
    published.put(PARQUET, published.get(PARQUET), "application/octet-stream")
    report = verify_tree(published)
    assert any("Content-Type" in m for m in _problems_for(report, PARQUET)), str(report)


def test_private_state_in_the_public_root_fails(published: ObjectStore) -> None:
    """Staged parts and checkpoints belong in the private store; verify refuses a public root
    that still holds them (an old single-root deployment, or a misconfigured copy)."""
    stage_part(
        published,
        "incidents",
        "openbeat.public.incidents",
        0,
        0,
        0,
        [(0, public_incident("a"))],
    )
    published.put("_internal/aggregator/state.json", b"{}", "application/json")
    report = verify_tree(published)
    assert not report.ok
    for prefix in ("staging/", "_internal/"):
        (message,) = _problems_for(report, prefix)
        assert "private state in the public root" in message
        assert "OPENBEAT_PRIVATE_STORE" in message
