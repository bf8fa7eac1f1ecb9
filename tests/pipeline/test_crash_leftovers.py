"""What a crash mid-release or mid-write leaves is repaired at start, and temps stay private."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from test_release_shrink import _incident, _releaser, _stage

from openbeat.store import LocalStore

FIRST = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SECOND = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_temp_files_are_never_written_in_public_folders(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "store")
    seen: list[list[str]] = []
    real_replace = os.replace

    def spy(src: str | Path, dst: str | Path) -> None:
        seen.append(sorted(p.name for p in (tmp_path / "store" / "feeds").iterdir()))
        assert Path(src).parent == store.root / ".tmp", src
        real_replace(src, dst)

    os.replace = spy  # type: ignore[assignment]
    try:
        store.put("feeds/alerts.rss", b"<rss/>", "application/rss+xml")
    finally:
        os.replace = real_replace
    assert seen and seen[0] == []  # nothing in feeds/ while the object was being written
    assert store.list() == ["feeds/alerts.rss"]


def test_temps_of_killed_writers_are_removed_at_start(tmp_path: Path) -> None:
    root = tmp_path / "store"
    store = LocalStore(root)
    # A writer SIGKILLed mid-write, in this version (under .tmp/) and in an older one (beside).
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (root / ".tmp").mkdir(exist_ok=True)
    (root / ".tmp" / f"{dead}-abc").write_bytes(b"half")
    (root / ".tmp" / f"{os.getpid()}-live").write_bytes(b"being written")
    (root / "feeds").mkdir()
    (root / "feeds" / ".tmp-x1y2").write_bytes(b"half")
    store.put("feeds/alerts.rss", b"<rss/>", "application/rss+xml")

    reopened = LocalStore(root)  # opening the store removes dead writers' temps already
    assert not (root / ".tmp" / f"{dead}-abc").exists()
    assert reopened.clean_leftovers() == ["feeds/.tmp-x1y2"]
    assert (root / ".tmp" / f"{os.getpid()}-live").exists()  # a live writer's temp stays
    assert sorted(p.name for p in (root / "feeds").iterdir()) == ["alerts.rss"]


def test_a_crash_between_latest_json_and_the_catalog_is_repaired(tmp_path: Path) -> None:
    releaser, store, private = _releaser(tmp_path)
    _stage(private, [_incident(i) for i in range(4)], 0)
    assert releaser.cut(["incidents"], FIRST)[0].ok
    old_catalog = store.get("catalog/data.json")
    _stage(private, [_incident(10 + i) for i in range(3)], 4)
    assert releaser.cut(["incidents"], SECOND)[0].ok
    # The crash: latest.json moved to the second release, the catalog stayed at the first.
    store.put("catalog/data.json", old_catalog, "application/json")

    releaser.repaired()

    catalog = json.loads(store.get("catalog/data.json"))
    latest = json.loads(store.get("datasets/incidents/latest.json"))
    (entry,) = [d for d in catalog["dataset"] if d["identifier"].endswith("/incidents")]
    assert entry["modified"] == latest["cutoff"]
    assert store.get("catalog/data.json") != old_catalog


def test_latest_copies_ahead_of_latest_json_are_copied_back(tmp_path: Path) -> None:
    releaser, store, private = _releaser(tmp_path)
    _stage(private, [_incident(i) for i in range(4)], 0)
    (first,) = releaser.cut(["incidents"], FIRST)
    good = store.get("datasets/incidents/latest/data.csv")
    # The crash: the stable copies were overwritten by a newer release, latest.json not moved.
    store.put("datasets/incidents/latest/data.csv", b"newer", "text/csv")
    store.put("datasets/incidents/latest/manifest.json", b"{}", "application/json")

    releaser.repaired()

    assert store.get("datasets/incidents/latest/data.csv") == good
    assert store.get("datasets/incidents/latest/manifest.json") == store.get(
        f"datasets/incidents/releases/{first.release_id}/manifest.json"
    )
    # Nothing to repair the second time: nothing rewritten.
    before = {k: store.head(k).etag for k in store.list()}
    releaser.repaired()
    assert {k: store.head(k).etag for k in store.list()} == before
