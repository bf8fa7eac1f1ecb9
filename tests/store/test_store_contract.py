"""The ObjectStore contract, run against the local folder and S3 (moto server) alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from openbeat.store import (
    InvalidKey,
    LocalStore,
    ObjectNotFound,
    ObjectStore,
    open_store,
)


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "local":
        return LocalStore(tmp_path / "root")
    s3: ObjectStore = request.getfixturevalue("s3_store")
    return s3


def test_put_get_round_trip(store: ObjectStore) -> None:
    assert store.put("datasets/x/a.json", b'{"a": 1}', "application/json") is True
    assert store.get("datasets/x/a.json") == b'{"a": 1}'
    assert store.exists("datasets/x/a.json")
    assert not store.exists("datasets/x/b.json")


def test_overwrite_replaces_bytes(store: ObjectStore) -> None:
    store.put("k.txt", b"one", "text/plain")
    store.put("k.txt", b"two", "text/plain")
    assert store.get("k.txt") == b"two"


def test_if_absent_never_overwrites(store: ObjectStore) -> None:
    assert store.put("r/data.csv", b"first", "text/csv", if_absent=True) is True
    assert store.put("r/data.csv", b"second", "text/csv", if_absent=True) is False
    assert store.get("r/data.csv") == b"first"


def test_missing_object_raises_object_not_found(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound):
        store.get("nope/missing.json")
    with pytest.raises(KeyError):  # ObjectNotFound is a KeyError for dict-like callers
        store.head("nope/missing.json")


def test_list_is_sorted_and_prefix_filtered(store: ObjectStore) -> None:
    for key in ["b/2.json", "a/1.json", "b/1.json", "bb/1.json", "c.json"]:
        store.put(key, b"{}", "application/json")
    assert store.list("b/") == ["b/1.json", "b/2.json"]
    assert store.list("b") == ["b/1.json", "b/2.json", "bb/1.json"]
    assert store.list() == ["a/1.json", "b/1.json", "b/2.json", "bb/1.json", "c.json"]
    assert store.list("zzz/") == []


def test_delete_removes_and_tolerates_absent(store: ObjectStore) -> None:
    store.put("d/x.json", b"{}", "application/json")
    store.delete("d/x.json")
    assert not store.exists("d/x.json")
    store.delete("d/x.json")
    assert store.list("d/") == []


def test_head_reports_size_type_and_cache_control(store: ObjectStore) -> None:
    store.put(
        "datasets/x/latest.json",
        b'{"release": 1}',
        "application/json",
        cache_control="public, max-age=60",
    )
    info = store.head("datasets/x/latest.json")
    assert info.size == len(b'{"release": 1}')
    assert info.content_type == "application/json"
    assert info.cache_control == "public, max-age=60"
    assert info.etag
    store.put("data.csv", b"a\r\n", "text/csv; charset=utf-8")
    assert store.head("data.csv").cache_control is None
    assert store.head("data.csv").content_type == "text/csv; charset=utf-8"


def test_put_file_and_download_stream(store: ObjectStore, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    payload = bytes(range(256)) * 4096
    src.write_bytes(payload)
    assert store.put_file("f/big.bin", src, "application/octet-stream", if_absent=True)
    assert not store.put_file("f/big.bin", src, "application/octet-stream", if_absent=True)
    out = tmp_path / "out.bin"
    store.download("f/big.bin", out)
    assert out.read_bytes() == payload
    with pytest.raises(ObjectNotFound):
        store.download("f/none.bin", tmp_path / "none")


@pytest.mark.parametrize(
    "key",
    [
        "",
        "/etc/passwd",
        "../outside.json",
        "a/../../outside.json",
        "a/./b.json",
        "a//b.json",
        "a/b/",
        "a\\..\\b.json",
        "a/b\x00.json",
        "a/\nb.json",
        ".meta/x.json",
        "C:/windows.txt",
    ],
)
def test_escaping_keys_are_rejected(store: ObjectStore, key: str) -> None:
    with pytest.raises(InvalidKey):
        store.put(key, b"x", "text/plain")
    with pytest.raises(InvalidKey):
        store.get(key)


@pytest.mark.integration
def test_same_layout_and_bytes_in_both_backends(tmp_path: Path, s3_store: Any) -> None:
    local = LocalStore(tmp_path / "root")
    for st in (local, s3_store):
        st.put("datasets/a/releases/r1/data.csv", b"x,y\r\n1,2\r\n", "text/csv; charset=utf-8")
        st.put("catalog/data.json", b"{}", "application/json")
    assert local.list() == s3_store.list()
    for key in local.list():
        assert local.get(key) == s3_store.get(key)


@pytest.mark.integration
def test_open_store_picks_backend(tmp_path: Path, s3_endpoint: str, s3_bucket: str) -> None:
    local = open_store(tmp_path / "x")
    assert isinstance(local, LocalStore)
    remote = open_store(
        f"s3://{s3_bucket}/pre/fix",
        endpoint_url=s3_endpoint,
        access_key="testing",
        secret_key="testing",
    )
    remote.put("a.json", b"{}", "application/json")
    assert remote.list() == ["a.json"]
    assert remote.url_for("a.json") == f"{s3_endpoint}/{s3_bucket}/pre/fix/a.json"
    with pytest.raises(ValueError):
        open_store("ftp://host/x")
