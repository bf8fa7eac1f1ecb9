"""Build one immutable release of a dataset, then move `latest.json` and the catalog to it.

Order of work, so a crash at any point leaves the published tree consistent:
1. write Parquet and CSV to a local temp folder (streamed, bounded memory), then the manifest
   and the Frictionless descriptor, all deterministic for the same rows and cutoff;
2. run the release gate (`releases.gate`, when the context has one) on the local files: a
   release that fails it is not uploaded at all, so it is never published;
3. upload each file create-if-absent (data files first, the manifest last: a release with a
   manifest is complete); an existing object with other bytes is an error, never overwritten;
4. re-read every object and compare its SHA-256;
5. only then point `latest.json` at the release (never backwards to an older cutoff) and rebuild
   `catalog/data.json` from every dataset's `latest.json`, validated against DCAT-US 1.1.
"""

from __future__ import annotations

import hashlib
import json
import logging
import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from openbeat import __version__
from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.releases.changes import write_changes
from openbeat.releases.datasets import DATASETS, get_dataset
from openbeat.releases.dcat import (
    CATALOG_KEY,
    accrual_periodicity,
    build_catalog,
    validate_catalog,
)
from openbeat.releases.dictionary import DICTIONARY_KEY, data_dictionary
from openbeat.releases.documents import (
    CHANGES_FILE,
    CSV_CONTENT_TYPE,
    CSV_FILE,
    CSV_MEDIA_TYPE,
    DATAPACKAGE_FILE,
    JSON_CONTENT_TYPE,
    JSON_MEDIA_TYPE,
    MANIFEST_FILE,
    PARQUET_CONTENT_TYPE,
    PARQUET_FILE,
    PARQUET_MEDIA_TYPE,
    FileEntry,
    build_datapackage,
    build_latest,
    build_manifest,
    canonical_json,
    iso_utc,
    latest_copy_prefix,
    latest_key,
    release_id_for,
    release_prefix,
)
from openbeat.releases.gate import ReleaseView, refused
from openbeat.releases.licenses import DEFAULT_LICENSE_URL, license_for
from openbeat.releases.shrink import ShrinkCheck, shrink_refusal
from openbeat.releases.tabular import DEFAULT_BATCH_ROWS, file_digest, write_tables
from openbeat.store.base import ObjectNotFound, ObjectStore

logger = logging.getLogger(__name__)

# latest.json, the stable latest/ copies and the catalog change with every release: caches may
# keep them one to five minutes. Release files never change: caches may keep them for a year.
LATEST_CACHE_CONTROL = "public, max-age=60"
LATEST_COPY_CACHE_CONTROL = "public, max-age=300"
CATALOG_CACHE_CONTROL = "public, max-age=300"
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"


def _default_generated_by() -> dict[str, str]:
    return {"name": "openbeat", "version": __version__, "pyarrow": pa.__version__}


@dataclass(frozen=True)
class ReleaseContext:
    """What a release needs besides its rows: where it is served, who publishes it, provenance."""

    base_url: str
    jurisdiction: Jurisdiction
    source_offsets: Mapping[str, Any] = field(default_factory=dict)
    policy: Mapping[str, Any] = field(default_factory=dict)
    # `privacy.pseudonym.key_id` of the key behind the public ids (recorded in the manifest).
    pseudonym_key_id: str | None = None
    license_url: str = DEFAULT_LICENSE_URL
    # The publisher's schedule (OPENBEAT_RELEASE_INTERVAL_S): the catalog's accrualPeriodicity.
    release_interval_s: int = 0
    generated_by: Mapping[str, str] = field(default_factory=_default_generated_by)
    batch_rows: int = DEFAULT_BATCH_ROWS
    workdir: Path | None = None  # where temp files go; the system temp folder when None
    # The release gate (the publisher's): a release view in, problem lines out; None: no gate.
    gate: Callable[[ReleaseView], list[str]] | None = field(default=None, repr=False)
    # The shrink rule's inputs (releases.shrink), asked once the rows are consumed; None: none.
    shrink: Callable[[], ShrinkCheck] | None = None

    @property
    def root_url(self) -> str:
        return self.base_url.rstrip("/")


@dataclass
class ReleaseResult:
    dataset: str
    release_id: str
    prefix: str
    rows: int
    files: list[FileEntry]
    written: list[str] = field(default_factory=list)  # keys created by this run
    unchanged: list[str] = field(default_factory=list)  # keys that existed with the same bytes
    latest_updated: bool = False
    catalog_updated: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def build_release(
    store: ObjectStore,
    dataset: str,
    rows: Iterable[Mapping[str, Any]] | Iterable[pa.Table],
    cutoff: datetime,
    context: ReleaseContext,
) -> ReleaseResult:
    """Write the release of `dataset` as of `cutoff` and publish it; see the module docstring.

    `rows` may be a generator of any length (row dicts, or Arrow tables of the dataset's
    columns): it is consumed once, in bounded memory. Problems
    (an existing release with different bytes, a failed re-read, an invalid catalog) come back
    in `ReleaseResult.errors` and stop the pointers from moving; `ok` is False then.
    """
    timezone = context.jurisdiction.timezone
    spec = get_dataset(dataset).localized(timezone)
    release_id = release_id_for(cutoff)
    prefix = release_prefix(spec.name, release_id)
    metadata = {
        "openbeat.dataset": spec.name,
        "openbeat.release_id": release_id,
        "openbeat.generated_by": f"openbeat {context.generated_by.get('version', '')}".strip(),
        "openbeat.timezone": timezone,
    }
    base = context.root_url
    with tempfile.TemporaryDirectory(prefix="openbeat-release-", dir=context.workdir) as tmp:
        work = Path(tmp)
        tables = write_tables(spec, rows, work, metadata, context.batch_rows, timezone)
        shrunk = shrink_refusal(store, spec.name, release_id, tables.rows, context.shrink)
        if shrunk is not None:
            logger.error("release %s not published: %s", prefix, shrunk)
            return ReleaseResult(spec.name, release_id, prefix, tables.rows, [], errors=[shrunk])
        changes = write_changes(store, spec, release_id, tables.parquet_path, work)
        digests = {
            tables.parquet_path: file_digest(tables.parquet_path),
            tables.csv_path: tables.csv_digest,
            changes: file_digest(changes),
        }
        files = [
            FileEntry(PARQUET_FILE, PARQUET_MEDIA_TYPE, *digests[tables.parquet_path], tables.rows),
            FileEntry(CSV_FILE, CSV_MEDIA_TYPE, *digests[tables.csv_path], tables.rows),
            FileEntry(CHANGES_FILE, JSON_MEDIA_TYPE, *digests[changes], 0),
        ]
        datapackage = build_datapackage(
            spec,
            release_id,
            cutoff,
            files,
            base,
            license_for(context.license_url),
            timezone,
        )
        manifest = build_manifest(
            spec,
            release_id,
            cutoff,
            files,
            tables.rows,
            tables.time_min,
            tables.time_max,
            context.source_offsets,
            context.policy,
            context.generated_by,
            context.pseudonym_key_id,
        )
        for path, document in (
            (work / DATAPACKAGE_FILE, canonical_json(datapackage)),
            (work / MANIFEST_FILE, canonical_json(manifest)),
        ):
            path.write_bytes(document)
            digests[path] = (len(document), hashlib.sha256(document).hexdigest())
        uploads = [
            (tables.parquet_path, PARQUET_FILE, PARQUET_CONTENT_TYPE),
            (tables.csv_path, CSV_FILE, CSV_CONTENT_TYPE),
            (changes, CHANGES_FILE, JSON_CONTENT_TYPE),
            (work / DATAPACKAGE_FILE, DATAPACKAGE_FILE, JSON_CONTENT_TYPE),
            (work / MANIFEST_FILE, MANIFEST_FILE, JSON_CONTENT_TYPE),
        ]
        result = ReleaseResult(spec.name, release_id, prefix, tables.rows, files)
        if context.gate is not None:
            view = ReleaseView(spec.name, release_id, manifest, path=tables.parquet_path)
            view.changes = json.loads(changes.read_text(encoding="utf-8"))
            result.errors = refused(prefix, context.gate(view))
            if result.errors:
                return result
        for path, name, content_type in uploads:
            _upload_immutable(store, prefix + name, path, digests[path], content_type, work, result)
        if result.errors:
            logger.error("release %s not published: %s", prefix, "; ".join(result.errors))
            return result
        for path, name, _ in uploads:
            _check_written(store, prefix + name, digests[path], work, result)
        if result.errors:
            logger.error("release %s failed its re-read: %s", prefix, "; ".join(result.errors))
            return result
        current = _current_latest(store, spec.name)
        if current is not None and str(current.get("release_id", "")) > release_id:
            logger.info(
                "%s stays at newer release %s", latest_key(spec.name), current["release_id"]
            )
        else:
            _copy_latest(store, spec.name, uploads, (work / MANIFEST_FILE).read_bytes())
            issued = str((current or {}).get("issued") or (current or {}).get("cutoff") or "")
            latest = build_latest(
                spec,
                release_id,
                cutoff,
                tables.rows,
                tables.time_min,
                tables.time_max,
                files,
                base,
                min(issued, iso_utc(cutoff)) if issued else iso_utc(cutoff),
            )
            result.latest_updated = _point_latest(store, spec.name, latest)
    catalog_errors = refresh_catalog(
        store,
        context.jurisdiction,
        context.root_url,
        context.license_url,
        release_interval_s=context.release_interval_s,
    )
    result.errors.extend(catalog_errors)
    result.catalog_updated = not catalog_errors
    logger.info(
        "release %s: %d rows, %d objects written, %d unchanged, latest %s",
        prefix,
        tables.rows,
        len(result.written),
        len(result.unchanged),
        "moved" if result.latest_updated else "kept",
    )
    return result


def _current_latest(store: ObjectStore, dataset: str) -> dict[str, Any] | None:
    try:
        current = json.loads(store.get(latest_key(dataset)))
    except ObjectNotFound:
        return None
    except ValueError:
        logger.warning("%s was not valid JSON; replacing it", latest_key(dataset))
        return None
    return current if isinstance(current, dict) else None


def _copy_latest(
    store: ObjectStore, dataset: str, uploads: list[tuple[Path, str, str]], manifest: bytes
) -> None:
    """Overwrite the stable copies under datasets/<dataset>/latest/ with this release's files
    (before latest.json moves, so the pointer never names bytes the copies do not hold yet).

    The manifest is copied last, so a copy whose manifest is this release's is complete and is
    left alone (a rerun rewrites nothing).
    """
    stable = latest_copy_prefix(dataset)
    try:
        if store.get(stable + MANIFEST_FILE) == manifest:
            return
    except ObjectNotFound:
        pass
    for path, name, content_type in uploads:
        store.put_file(stable + name, path, content_type, cache_control=LATEST_COPY_CACHE_CONTROL)


def _upload_immutable(
    store: ObjectStore,
    key: str,
    path: Path,
    digest: tuple[int, str],
    content_type: str,
    work: Path,
    result: ReleaseResult,
) -> None:
    if store.put_file(
        key, path, content_type, cache_control=IMMUTABLE_CACHE_CONTROL, if_absent=True
    ):
        result.written.append(key)
        return
    if _stored_digest(store, key, work) == digest:
        result.unchanged.append(key)
        return
    result.errors.append(
        f"{key}: already published with different bytes; a release is immutable, "
        "so it was left as is (use a new cutoff)"
    )


def _check_written(
    store: ObjectStore, key: str, digest: tuple[int, str], work: Path, result: ReleaseResult
) -> None:
    try:
        if _stored_digest(store, key, work) != digest:
            result.errors.append(f"{key}: re-read bytes differ from what was written")
    except ObjectNotFound:
        result.errors.append(f"{key}: missing right after it was written")


def _stored_digest(store: ObjectStore, key: str, work: Path) -> tuple[int, str]:
    """(size, sha256) of the object as the store returns it, streamed through a temp file.

    The local side's digest is computed once, when its file is written, not on every check.
    """
    copy = work / "reread.tmp"
    try:
        store.download(key, copy)
        return file_digest(copy)
    finally:
        copy.unlink(missing_ok=True)


def _point_latest(store: ObjectStore, dataset: str, latest: Mapping[str, Any]) -> bool:
    """Write latest.json unless it already points at a newer release (ids sort by time)."""
    key = latest_key(dataset)
    data = canonical_json(latest)
    try:
        existing = store.get(key)
        if existing == data:
            return False  # already there: no rewrite, so the ETag portals cache on stays
        current = json.loads(existing)
        if str(current.get("release_id", "")) > latest["release_id"]:
            logger.info("%s stays at newer release %s", key, current["release_id"])
            return False
    except ObjectNotFound:
        pass
    except ValueError:
        logger.warning("%s was not valid JSON; replacing it", key)
    store.put(key, data, JSON_CONTENT_TYPE, cache_control=LATEST_CACHE_CONTROL)
    return True


def refresh_catalog(
    store: ObjectStore,
    jurisdiction: Jurisdiction,
    base_url: str,
    license_url: str | None = None,
    *,
    release_interval_s: int = 0,
) -> list[str]:
    """Rebuild catalog/data.json from every dataset's latest.json; problems are returned.

    The catalog is not written when it would not validate against DCAT-US 1.1.
    """
    entries = []
    for name, spec in sorted(DATASETS.items()):
        try:
            latest = json.loads(store.get(latest_key(name)))
        except ObjectNotFound:
            continue
        entries.append((spec, latest))
    catalog = build_catalog(
        entries,
        jurisdiction,
        base_url.rstrip("/"),
        license_for(license_url),
        accrual_periodicity(release_interval_s),
    )
    problems = validate_catalog(catalog)
    if problems:
        return [f"{CATALOG_KEY}: not written, invalid DCAT-US 1.1: {p}" for p in problems]
    # The dictionary first: a catalog never lists a dataset the dictionary does not describe.
    dictionary = data_dictionary(jurisdiction.timezone, [spec.name for spec, _ in entries])
    _put_if_changed(store, DICTIONARY_KEY, canonical_json(dictionary))
    _put_if_changed(store, CATALOG_KEY, canonical_json(catalog))
    return []


def _put_if_changed(store: ObjectStore, key: str, data: bytes) -> None:
    """Write a JSON document unless it is already there (so its ETag stays for caches)."""
    try:
        if store.get(key) == data:
            return
    except ObjectNotFound:
        pass
    store.put(key, data, JSON_CONTENT_TYPE, cache_control=CATALOG_CACHE_CONTROL)
