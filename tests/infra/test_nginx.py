"""infra/nginx/openbeat-locations.conf served by Debian's nginx over a published root.

nginx runs its workers as `nobody` (the master as root), as in a real deployment, so the test
also proves the published files are readable by another user. Private state beside the tree
(staging/, _internal/, the .meta/ sidecars, temp files of writes in progress) must not be served.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.releases import ReleaseContext, build_release
from openbeat.releases.synthetic import synthetic_incident_rows
from openbeat.store import LocalStore

REPO = Path(__file__).resolve().parents[2]
LOCATIONS = REPO / "infra" / "nginx" / "openbeat-locations.conf"
CUTOFF = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
RELEASE = "datasets/incidents/releases/2026-11-25T120000Z/"


def _nginx() -> str:
    found = subprocess.run(
        [str(REPO / "infra" / "nginx" / "ensure-nginx.sh")], capture_output=True, text=True
    )
    if found.returncode != 0:
        pytest.fail(f"no nginx and it could not be installed: {found.stderr.strip()}")
    path = found.stdout.strip()
    return path if os.path.isabs(path) else str(REPO / path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served() -> Iterator[str]:
    # Not under pytest's tmp folder: its parents are 0700, and the workers run as nobody.
    work = Path(tempfile.mkdtemp(prefix="openbeat-nginx-", dir="/tmp"))
    work.chmod(0o755)
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
        port = _free_port()
        conf = work / "nginx.conf"
        user = "user nobody nogroup;" if os.geteuid() == 0 else ""
        temps = " ".join(
            f"{name}_temp_path {work}/{name};" for name in ("client_body", "proxy", "fastcgi")
        )
        conf.write_text(
            f"""{user}
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    {temps} uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {store.root};
        include {LOCATIONS};
    }}
}}
"""
        )
        nginx = subprocess.Popen(
            [_nginx(), "-p", str(work), "-c", str(conf), "-e", str(work / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    if nginx.poll() is not None or time.monotonic() > deadline:
                        err = nginx.stderr.read().decode() if nginx.stderr else ""
                        pytest.fail(f"nginx did not start: {err}")
                    time.sleep(0.1)
            yield f"http://127.0.0.1:{port}"
        finally:
            nginx.terminate()
            nginx.wait(timeout=20)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), b""


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
    status, headers, body = _get(f"{served}/{path}")
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
    status, _, body = _get(f"{served}/{path}")
    assert status in (403, 404), path
    assert b"private" not in body
