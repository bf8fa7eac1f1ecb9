"""The public root and the private store are apart: defaults beside (never under) the public
folder, overlaps refused, and every store problem named by its variable in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from openbeat.runtime.settings import PublishSettings
from openbeat.store import LocalStore, StoreSettingError, open_stores
from openbeat.store.layout import check_apart, default_private_location


def _settings(monkeypatch: pytest.MonkeyPatch, public: str, private: str | None = None):
    for name in ("OPENBEAT_STORE", "OPENBEAT_PRIVATE_STORE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENBEAT_STORE", public)
    if private is not None:
        monkeypatch.setenv("OPENBEAT_PRIVATE_STORE", private)
    return PublishSettings()


def test_the_default_private_store_is_a_folder_beside_the_public_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stores = open_stores(_settings(monkeypatch, str(tmp_path / "var" / "store")))
    assert isinstance(stores.public, LocalStore) and isinstance(stores.private, LocalStore)
    assert stores.private.root == (tmp_path / "var" / "private").resolve()
    assert stores.public.root not in stores.private.root.parents
    assert default_private_location(str(tmp_path / "open-data")) == str(
        tmp_path / "open-data-private"
    )
    # Owner-only: another user (the web server) cannot read private state.
    assert stores.private.root.stat().st_mode & 0o077 == 0


@pytest.mark.parametrize(
    ("public", "private"),
    [
        ("{tmp}/store", "{tmp}/store/private"),
        ("{tmp}/store", "{tmp}/store"),
        ("{tmp}/var/store", "{tmp}/var"),
        ("s3://b/open-data", "s3://b/open-data/state"),
        # A bucket policy on `open-data` also matches `open-data-private/...`.
        ("s3://b/open-data", "s3://b/open-data-private"),
        ("s3://b", "s3://b/state"),
    ],
)
def test_a_private_store_the_public_root_would_expose_is_refused(
    tmp_path: Path, public: str, private: str
) -> None:
    overlap = r"OPENBEAT_PRIVATE_STORE=.* overlaps OPENBEAT_STORE"
    with pytest.raises(StoreSettingError, match=overlap):
        check_apart(public.format(tmp=tmp_path), private.format(tmp=tmp_path))


def test_apart_stores_are_accepted(tmp_path: Path) -> None:
    check_apart(str(tmp_path / "store"), str(tmp_path / "private"))
    check_apart("s3://public/open-data", "s3://private-state/x")
    check_apart("s3://b/open-data", "s3://b/state")
    check_apart("s3://b/open-data", str(tmp_path / "private"))


def test_an_s3_public_store_needs_an_explicit_private_store(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(StoreSettingError) as err:
        open_stores(_settings(monkeypatch, "s3://open/data"))
    assert str(err.value).startswith("OPENBEAT_PRIVATE_STORE is not set")
    assert "\n" not in str(err.value)


def test_unusable_stores_are_named_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StoreSettingError) as err:
        open_stores(_settings(monkeypatch, str(blocker / "store")))
    assert str(err.value).startswith(f"OPENBEAT_STORE='{blocker / 'store'}': cannot use")
    with pytest.raises(StoreSettingError) as err:
        open_stores(_settings(monkeypatch, str(tmp_path / "store"), str(blocker / "p")))
    assert str(err.value).startswith("OPENBEAT_PRIVATE_STORE=")
    with pytest.raises(StoreSettingError, match=r"^OPENBEAT_STORE='ftp://x/y': expected a folder"):
        open_stores(_settings(monkeypatch, "ftp://x/y"))
    with pytest.raises(StoreSettingError, match="names no bucket"):
        open_stores(_settings(monkeypatch, "s3:///y", str(tmp_path / "p")))


def test_the_cli_names_an_unusable_store_in_one_line(tmp_path: Path) -> None:
    import os

    from cli_helpers import run_cli

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBEAT_")}
    env.update({"OPENBEAT_STORE": str(blocker / "store"), "OPENBEAT_ALLOW_DEV_KEY": "1"})
    result = run_cli(env, "release", check=False)
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"openbeat: error: OPENBEAT_STORE='{blocker / 'store'}': cannot use")
    env.update(
        {
            "OPENBEAT_STORE": str(tmp_path / "store"),
            "OPENBEAT_PRIVATE_STORE": str(tmp_path / "store" / "p"),
        }
    )
    result = run_cli(env, "release", check=False)
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("openbeat: error: OPENBEAT_PRIVATE_STORE=") and "overlaps" in line
