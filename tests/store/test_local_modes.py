"""The local store's file modes: published objects world-readable, private state not."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from openbeat.store import LocalStore


@pytest.fixture(autouse=True)
def strict_umask() -> Iterator[None]:
    """A umask that would make everything owner-only if the store relied on it."""
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_published_objects_and_their_folders_are_world_readable(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "root")
    store.put("datasets/incidents/latest.json", b"{}", "application/json")
    source = tmp_path / "src.csv"
    source.write_bytes(b"a\r\n")
    store.put_file("datasets/incidents/releases/r1/data.csv", source, "text/csv")
    assert _mode(store.root) == 0o755
    assert _mode(store.root / "datasets/incidents/latest.json") == 0o644
    assert _mode(store.root / "datasets/incidents/releases/r1/data.csv") == 0o644
    for folder in ("datasets", "datasets/incidents", "datasets/incidents/releases/r1"):
        assert _mode(store.root / folder) == 0o755, folder


def test_private_prefixes_and_private_stores_stay_owner_only(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "root")
    store.put("staging/incidents/part-1.avro", b"x", "application/avro")
    store.put("_internal/aggregator/checkpoint.json", b"{}", "application/json")
    assert _mode(store.root / "staging/incidents/part-1.avro") == 0o600
    assert _mode(store.root / "staging") == 0o700
    assert _mode(store.root / "_internal/aggregator/checkpoint.json") == 0o600
    private = LocalStore(tmp_path / "private", private=True)
    private.put("datasets/a.json", b"{}", "application/json")
    assert _mode(private.root) == 0o700
    assert _mode(private.root / "datasets/a.json") == 0o600
    assert _mode(private.root / "datasets") == 0o700
