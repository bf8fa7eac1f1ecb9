"""`openbeat serve`: the public root only, with the published content types."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from openbeat.site.serve import make_server


@pytest.fixture
def served(site_root: Path) -> Iterator[str]:
    server = make_server(site_root, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def _get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, "", b""


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/", "text/html; charset=utf-8"),
        ("/index.html", "text/html; charset=utf-8"),
        ("/datasets/incidents/", "text/html; charset=utf-8"),
        ("/charts/map.svg", "image/svg+xml"),
        ("/feeds/alerts.rss", "application/rss+xml"),
        ("/feeds/alerts.atom", "application/atom+xml"),
        ("/feeds/meetings.ics", "text/calendar; charset=utf-8"),
        ("/datasets/incidents/recent.geojson", "application/geo+json"),
        ("/datasets/incidents/latest/data/part-00000.parquet", "application/vnd.apache.parquet"),
        ("/datasets/incidents/latest/data.csv", "text/csv; charset=utf-8"),
    ],
)
def test_public_files_with_their_content_types(served: str, path: str, content_type: str) -> None:
    status, served_type, body = _get(served + path)
    assert (status, served_type) == (200, content_type)
    assert body


@pytest.mark.parametrize(
    "path",
    [
        "/staging/",
        "/_internal/aggregator/state.json",
        "/.meta/index.html.json",
        "/feeds/",
        "/../etc/passwd",
    ],
)
def test_private_parts_and_listings_are_not_served(served: str, path: str, site_root: Path) -> None:
    status, _, _ = _get(served + path)
    assert status == 404


def test_a_missing_root_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not a folder"):
        make_server(tmp_path / "nope", port=0)
