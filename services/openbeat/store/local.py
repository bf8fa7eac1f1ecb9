"""A local folder as an object store: the default for development and single-host deployments.

Writes are atomic (temp file in the same folder, fsync, then rename or hard link), so a reader or
a crash never sees half an object. Content type and cache control live in a JSON sidecar under
`<root>/.meta/` (keys cannot start with a dot, so no object can collide with it); a web server
in front of the folder may use them or its own suffix map, which gives the same answer.

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
        with self._temp_beside(key, path) as (fd, tmp):
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
        with self._temp_beside(key, target) as (fd, tmp):
            with os.fdopen(fd, "wb", closefd=False) as out, open(path, "rb") as src:
                shutil.copyfileobj(src, out, _CHUNK)
                out.flush()
                os.fsync(out.fileno())
            return self._commit(key, target, tmp, content_type, cache_control, if_absent)

    @contextlib.contextmanager
    def _temp_beside(self, key: str, path: Path) -> Iterator[tuple[int, Path]]:
        file_mode, dir_mode = self._modes(key)
        self._make_dirs(path.parent, dir_mode)
        fd, name = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
        tmp = Path(name)
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
        fd, name = tempfile.mkstemp(prefix=".tmp-", dir=meta.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(body)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(name, meta)
        finally:
            Path(name).unlink(missing_ok=True)

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


def _fsync_dir(folder: Path) -> None:
    """Make a rename durable: fsync the folder that holds the new directory entry."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
