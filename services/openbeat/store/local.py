"""A local folder as an object store: the default for development and single-host deployments.

Writes are atomic (temp file, fsync, then rename or hard link), so a reader or a crash never sees
half an object. Temp files live in `<root>/.tmp/` (same file system, so the rename stays atomic),
never beside the object in a public folder, and are named after the writing process:
`clean_leftovers()` removes those of processes that are gone (a SIGKILLed writer leaves one), and
`.tmp-*` files older versions left beside objects. Content type and cache control live in a
JSON sidecar under `<root>/.meta/` (keys cannot start with a dot, so no object can collide
with it); a web server in front of the folder may use them or its own suffix map, which gives
the same answer.

Modes: a web server runs as another user, so published objects are world-readable (files 0644,
folders 0755) whatever the umask; objects under the private prefixes (`staging/`, `_internal/`)
and every object of a store opened with `private=True` are the owner's only (0600 / 0700).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from openbeat.store.base import (
    InvalidKey,
    ObjectInfo,
    ObjectNotFound,
    guess_content_type,
    validate_key,
    validate_prefix,
)

logger = logging.getLogger(__name__)

META_DIR = ".meta"
TMP_DIR = ".tmp"
# Temp names: "<pid>-<random>"; older versions wrote ".tmp-<random>" beside the object.
LEGACY_TMP_PREFIX = ".tmp-"
# Keys that never go to the public, even when they share a root with the published tree.
PRIVATE_PREFIXES = ("staging/", "_internal/")
PUBLIC_FILE_MODE, PUBLIC_DIR_MODE = 0o644, 0o755
PRIVATE_FILE_MODE, PRIVATE_DIR_MODE = 0o600, 0o700
# Copy buffer for streaming files in and out: big enough to be fast, small enough to not matter.
_CHUNK = 1024 * 1024


class LocalStore:
    """Objects as files under `root`; `key` maps to `root / key`."""

    def __init__(self, root: Path, private: bool = False) -> None:
        self.root = Path(root).resolve()
        self.private = private
        self.root.mkdir(parents=True, exist_ok=True)
        root_mode = PRIVATE_DIR_MODE if private else PUBLIC_DIR_MODE
        if self.root.stat().st_mode & 0o777 != root_mode:
            with contextlib.suppress(PermissionError):
                self.root.chmod(root_mode)
        # Temps of writers killed mid-write: one folder listing, so every opener can afford it.
        self._clean_tmp()

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    # -- paths ---------------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        validate_key(key)
        path = (self.root / key).resolve()
        # Belt and braces: a symlink inside the root must not lead outside it either.
        if self.root not in path.parents:
            raise InvalidKey(f"object key {key!r} resolves outside the store root")
        return path

    def _meta_path(self, key: str) -> Path:
        return self.root / META_DIR / f"{key}.json"

    def _modes(self, key: str) -> tuple[int, int]:
        """(file mode, folder mode) of an object: world-readable unless private."""
        if self.private or key.startswith(PRIVATE_PREFIXES):
            return PRIVATE_FILE_MODE, PRIVATE_DIR_MODE
        return PUBLIC_FILE_MODE, PUBLIC_DIR_MODE

    def _make_dirs(self, folder: Path, mode: int) -> None:
        """Create the folders down to `folder` with `mode` exactly (not masked by the umask)."""
        if folder.is_dir():
            return
        self._make_dirs(folder.parent, mode)
        with contextlib.suppress(FileExistsError):
            folder.mkdir()
            folder.chmod(mode)

    # -- writes --------------------------------------------------------------------------------

    def put(
        self,
        key: str,
        data: bytes,
        content_type: str,
        cache_control: str | None = None,
        if_absent: bool = False,
    ) -> bool:
        path = self._path(key)
        with self._temp_file(key, path) as (fd, tmp):
            with os.fdopen(fd, "wb", closefd=False) as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            return self._commit(key, path, tmp, content_type, cache_control, if_absent)

    def put_file(
        self,
        key: str,
        path: Path,
        content_type: str,
        cache_control: str | None = None,
        if_absent: bool = False,
    ) -> bool:
        target = self._path(key)
        with self._temp_file(key, target) as (fd, tmp):
            with os.fdopen(fd, "wb", closefd=False) as out, open(path, "rb") as src:
                shutil.copyfileobj(src, out, _CHUNK)
                out.flush()
                os.fsync(out.fileno())
            return self._commit(key, target, tmp, content_type, cache_control, if_absent)

    @contextlib.contextmanager
    def _temp_file(self, key: str, path: Path) -> Iterator[tuple[int, Path]]:
        file_mode, dir_mode = self._modes(key)
        self._make_dirs(path.parent, dir_mode)
        fd, tmp = self._mkstemp()
        try:
            # mkstemp makes 0600; the object gets its final mode before it becomes visible.
            os.fchmod(fd, file_mode)
            yield fd, tmp
        finally:
            os.close(fd)
            tmp.unlink(missing_ok=True)

    def _commit(
        self,
        key: str,
        path: Path,
        tmp: Path,
        content_type: str,
        cache_control: str | None,
        if_absent: bool,
    ) -> bool:
        # The sidecar goes first: once the object is visible its metadata is already right.
        # A sidecar left by a crash before the rename is harmless and overwritten next time.
        if if_absent and path.exists():
            return False
        self._write_meta(key, content_type, cache_control)
        if if_absent:
            try:
                # link() fails if the target exists: an atomic create-if-absent, unlike rename.
                os.link(tmp, path)
            except FileExistsError:
                return False
        else:
            os.replace(tmp, path)
        _fsync_dir(path.parent)
        return True

    def _write_meta(self, key: str, content_type: str, cache_control: str | None) -> None:
        meta = self._meta_path(key)
        meta.parent.mkdir(parents=True, exist_ok=True)
        body = json.dumps({"content_type": content_type, "cache_control": cache_control})
        fd, tmp = self._mkstemp()
        name = str(tmp)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(name, meta)
        finally:
            Path(name).unlink(missing_ok=True)

    def _mkstemp(self) -> tuple[int, Path]:
        folder = self.root / TMP_DIR
        if not folder.is_dir():
            self._make_dirs(folder, PRIVATE_DIR_MODE)
        fd, name = tempfile.mkstemp(prefix=f"{os.getpid()}-", dir=folder)
        return fd, Path(name)

    def _clean_tmp(self) -> list[Path]:
        """Remove the temp files in .tmp/ of processes that are gone."""
        removed: list[Path] = []
        folder = self.root / TMP_DIR
        for tmp in folder.iterdir() if folder.is_dir() else ():
            pid = tmp.name.split("-", 1)[0]
            if not (pid.isdigit() and _alive(int(pid))):
                tmp.unlink(missing_ok=True)
                removed.append(tmp)
        return removed

    def clean_leftovers(self) -> list[str]:
        """Remove temp files of writers that are gone, and legacy `.tmp-*` files anywhere in the
        tree; returns their paths relative to the root. Safe beside running writers: only files
        of dead processes (and of no current version) are touched."""
        removed = self._clean_tmp()
        for dirpath, _, filenames in os.walk(self.root):
            removed += [Path(dirpath) / n for n in filenames if n.startswith(LEGACY_TMP_PREFIX)]
        for path in removed:
            path.unlink(missing_ok=True)
        if removed:
            logger.warning("%s: removed %d temp files left by a crash", self, len(removed))
        return sorted(p.relative_to(self.root).as_posix() for p in removed)

    # -- reads ---------------------------------------------------------------------------------

    def get(self, key: str) -> bytes:
        path = self._path(key)
        try:
            return path.read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None

    def download(self, key: str, path: Path) -> None:
        src = self._path(key)
        try:
            shutil.copyfile(src, path)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            raise ObjectNotFound(key) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str = "") -> list[str]:
        validate_prefix(prefix)
        # Walk only the deepest folder the prefix names, not the whole root.
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        start = self.root / folder if folder else self.root
        if not start.is_dir():
            return []
        keys: list[str] = []
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = [d for d in dirnames if not d.startswith(".")]
            rel = Path(dirpath).relative_to(self.root).as_posix()
            for name in filenames:
                if name.startswith("."):
                    continue
                key = name if rel == "." else f"{rel}/{name}"
                if key.startswith(prefix):
                    keys.append(key)
        return sorted(keys)

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)
        self._meta_path(key).unlink(missing_ok=True)

    def head(self, key: str) -> ObjectInfo:
        path = self._path(key)
        if not path.is_file():
            raise ObjectNotFound(key)
        digest = hashlib.md5(usedforsecurity=False)
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(_CHUNK), b""):
                digest.update(chunk)
        content_type, cache_control = guess_content_type(key), None
        try:
            meta = json.loads(self._meta_path(key).read_text(encoding="utf-8"))
            content_type = meta.get("content_type") or content_type
            cache_control = meta.get("cache_control")
        except (FileNotFoundError, ValueError):
            pass
        return ObjectInfo(
            key=key,
            size=path.stat().st_size,
            etag=digest.hexdigest(),
            content_type=content_type,
            cache_control=cache_control,
        )

    def url_for(self, key: str) -> str:
        return self._path(key).as_uri()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's live process
    return True


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable: fsync the folder that holds the new directory entry."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
