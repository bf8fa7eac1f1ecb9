"""infra/nginx/openbeat-locations.conf served by Debian's nginx over a published root.

nginx runs its workers as `nobody` (the master as root), as in a real deployment, so the test
also proves the published files are readable by another user. Private state beside the tree
(staging/, _internal/, the .meta/ sidecars, temp files of writes in progress) must not be served.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.releases import ReleaseContext, build_release
from openbeat.releases.synthetic import synthetic_incident_rows
from openbeat.store import LocalStore
from serving import get, nginx_serving, world_readable_dir

CUTOFF = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
RELEASE = "datasets/incidents/releases/2026-11-25T120000Z/"


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    work = world_readable_dir("openbeat-nginx-")
    try:
        store = LocalStore(work / "public")
        sample = load_jurisdiction("sample")
        context = ReleaseContext(base_url="https://data.riverton.example", jurisdiction=sample)
        rows = synthetic_incident_rows(20, sample)
        assert build_release(store, "incidents", rows, CUTOFF, context).ok
        store.put("feeds/alerts.rss", b"<rss/>", "application/rss+xml; charset=utf-8")
        store.put("feeds/alerts.atom", b"<feed/>", "application/atom+xml; charset=utf-8")
        store.put("feeds/alerts.json", b"{}", "application/feed+json")
        store.put("staging/incidents/part-0.avro", b"private", "application/avro")
        store.put("_internal/aggregator/checkpoint.json", b"{}", "application/json")
        (store.root / RELEASE / ".tmp-half-written").write_bytes(b"x")
        with nginx_serving(store.root, work) as url:
            yield url
    finally:
        shutil.rmtree(work, ignore_errors=True)


@pytest.mark.parametrize(
    ("path", "content_type", "cache"),
    [
        (RELEASE + "data/part-00000.parquet", "application/vnd.apache.parquet", "immutable"),
        (RELEASE + "data.csv", "text/csv; charset=utf-8", "immutable"),
        (RELEASE + "manifest.json", "application/json; charset=utf-8", "immutable"),
        ("datasets/incidents/latest.json", "application/json; charset=utf-8", "max-age=60"),
        ("datasets/incidents/latest/data.csv", "text/csv; charset=utf-8", "max-age=300"),
        ("catalog/data.json", "application/json; charset=utf-8", "max-age=300"),
        ("feeds/alerts.rss", "application/rss+xml; charset=utf-8", "max-age=60"),
        ("feeds/alerts.atom", "application/atom+xml; charset=utf-8", "max-age=60"),
        ("feeds/alerts.json", "application/feed+json; charset=utf-8", "max-age=60"),
    ],
)
def test_published_objects_are_served_with_their_types(
    served: str, path: str, content_type: str, cache: str
) -> None:
    status, headers, body = get(f"{served}/{path}")
    assert status == 200, path
    assert headers["Content-Type"] == content_type
    assert cache in headers["Cache-Control"]
    assert body


@pytest.mark.parametrize(
    "path",
    [
        "staging/incidents/part-0.avro",
        "_internal/aggregator/checkpoint.json",
        ".meta/catalog/data.json.json",
        RELEASE + ".tmp-half-written",
        "datasets/",
        "staging/",
    ],
)
def test_private_paths_and_listings_are_not_served(served: str, path: str) -> None:
    status, _, body = get(f"{served}/{path}")
    assert status in (403, 404), path
    assert b"private" not in body
