"""`openbeat verify`, one release: its files as the manifest lists them, then the release gate.

The manifest lists every file and nothing else is there; each file's bytes, SHA-256 and row count
match; the Parquet schema is the dataset's; the CSV holds the Parquet rows in the same order; the
Frictionless descriptor agrees; objects carry the right Content-Type. Every string cell is
scanned for personal data. Then the release gate (`releases.gate`: pseudonym key, typed column
checks on the anonymizer's own functions, differencing rules) runs on the downloaded Parquet
file: the same gate the publisher runs before a release is uploaded.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from openbeat.releases.datasets import DATASETS, DatasetSpec
from openbeat.releases.documents import (
    CHANGES_FILE,
    CSV_CONTENT_TYPE,
    DATAPACKAGE_FILE,
    JSON_CONTENT_TYPE,
    MANIFEST_FILE,
    PARQUET_CONTENT_TYPE,
    release_prefix,
)
from openbeat.releases.gate import ReleaseView
from openbeat.releases.tabular import csv_rows, file_digest
from openbeat.releases.verify_scan import Scan, VerifyReport, parquet_strings, text_chunks
from openbeat.store.base import ObjectNotFound, ObjectStore

logger = logging.getLogger(__name__)

EXPECTED_TYPES = {
    ".parquet": PARQUET_CONTENT_TYPE,
    ".csv": CSV_CONTENT_TYPE,
    ".json": JSON_CONTENT_TYPE,
}
# The release gate as verify runs it: a release view in, problem lines out.
GateCheck = Callable[[ReleaseView], list[str]]


def check_content_type(store: ObjectStore, key: str, report: VerifyReport) -> None:
    expected = EXPECTED_TYPES.get(Path(key).suffix)
    if expected is None:
        return
    actual = store.head(key).content_type
    if actual.split(";")[0].strip() != expected.split(";")[0].strip():
        report.add(key, f"Content-Type is {actual!r}, expected {expected!r}")


def verify_release(
    store: ObjectStore,
    dataset: str,
    release_id: str,
    names: list[str],
    tmp: Path,
    report: VerifyReport,
    scan: Scan,
    gate: GateCheck | None = None,
) -> None:
    """Check one release's files (see the module docstring); `tmp` is emptied afterwards."""
    prefix = release_prefix(dataset, release_id)
    report.releases_checked += 1
    spec = DATASETS.get(dataset)
    if spec is None:
        report.add(prefix, f"unknown dataset {dataset!r}")
    if MANIFEST_FILE not in names:
        report.add(prefix + MANIFEST_FILE, "missing: the release is incomplete")
        return
    try:
        manifest = json.loads(store.get(prefix + MANIFEST_FILE))
        files = list(manifest["files"])
    except (ValueError, KeyError, TypeError) as exc:
        report.add(prefix + MANIFEST_FILE, f"unreadable manifest: {exc}")
        return
    scan.texts(prefix + MANIFEST_FILE, [json.dumps(manifest, ensure_ascii=False)])
    if manifest.get("dataset") != dataset or manifest.get("release_id") != release_id:
        report.add(prefix + MANIFEST_FILE, "names another dataset or release than its folder")
    listed = {str(f.get("path")) for f in files}
    for extra in sorted(set(names) - listed - {MANIFEST_FILE, DATAPACKAGE_FILE}):
        report.add(prefix + extra, "not listed in the manifest")
    parquet_local: Path | None = None
    for entry in files:
        key = prefix + str(entry.get("path"))
        local = tmp / Path(key).name
        try:
            store.download(key, local)
        except ObjectNotFound:
            report.add(key, "listed in the manifest but missing")
            continue
        check_content_type(store, key, report)
        size, sha = file_digest(local)
        if size != entry.get("bytes"):
            report.add(key, f"size {size} bytes, manifest says {entry.get('bytes')}")
        if sha != entry.get("sha256"):
            report.add(key, f"sha256 {sha} does not match the manifest ({entry.get('sha256')})")
        if key.endswith(".parquet"):
            if _check_parquet(key, local, entry, spec, report, scan):
                parquet_local = local
        elif key.endswith(".csv"):
            _check_csv(key, local, entry, spec, parquet_local, report, scan)
    total = sum(int(f.get("rows", 0)) for f in files if str(f.get("path")).endswith(".parquet"))
    if manifest.get("rows") != total:
        report.add(
            prefix + MANIFEST_FILE, f"rows {manifest.get('rows')} but Parquet files hold {total}"
        )
    _check_datapackage(store, prefix, names, files, report, scan)
    if gate is not None and spec is not None:
        # The publisher's own gate, again, on the bytes as published.
        view = ReleaseView(dataset, release_id, manifest, path=parquet_local)
        view.changes = _changes(tmp / CHANGES_FILE)
        for line in gate(view):
            report.add(prefix, f"release gate: {line}")
    for local in tmp.iterdir():
        local.unlink()


def _changes(local: Path) -> dict[str, Any] | None:
    """The release's change log as downloaded (None when it is missing or unreadable)."""
    try:
        changes = json.loads(local.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return changes if isinstance(changes, dict) else None


def _check_parquet(
    key: str,
    local: Path,
    entry: dict[str, Any],
    spec: DatasetSpec | None,
    report: VerifyReport,
    scan: Scan,
) -> bool:
    try:
        pfile = pq.ParquetFile(local)
    except (pa.ArrowException, OSError) as exc:
        report.add(key, f"not a readable Parquet file: {exc}")
        return False
    if pfile.metadata.num_rows != entry.get("rows"):
        report.add(key, f"{pfile.metadata.num_rows} rows, manifest says {entry.get('rows')}")
    if spec is not None:
        actual = pfile.schema_arrow
        zone = (actual.metadata or {}).get(b"openbeat.timezone")
        spec = spec.localized(zone.decode()) if zone else spec  # column docs name the zone
        expected = spec.arrow_schema()
        if not actual.equals(expected, check_metadata=False):
            report.add(key, f"schema differs from the {spec.name} spec: {actual} != {expected}")
        for column in spec.columns:
            index = actual.get_field_index(column.name)
            if index < 0:
                continue
            meta = actual.field(index).metadata or {}
            if meta.get(b"description", b"").decode() != column.description:
                report.add(key, f"column {column.name!r} lacks its description")
    scan.texts(key, parquet_strings(pfile))
    return True


def _check_csv(
    key: str,
    local: Path,
    entry: dict[str, Any],
    spec: DatasetSpec | None,
    parquet: Path | None,
    report: VerifyReport,
    scan: Scan,
) -> None:
    with open(local, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if spec is not None and header != spec.column_names:
            report.add(key, f"header {header} is not the {spec.name} columns")
        expected_rows = _parquet_csv_rows(parquet) if parquet is not None else None
        count = 0
        mismatch_reported = False
        for row in reader:
            count += 1
            if expected_rows is not None and not mismatch_reported:
                want = next(expected_rows, None)
                if want != row:
                    report.add(key, f"row {count} differs from the Parquet file: {row} != {want}")
                    mismatch_reported = True
        if expected_rows is not None and not mismatch_reported and next(expected_rows, None):
            report.add(key, "has fewer rows than the Parquet file")
    if count != entry.get("rows"):
        report.add(key, f"{count} rows, manifest says {entry.get('rows')}")
    scan.texts(key, text_chunks(local))


def _parquet_csv_rows(parquet: Path) -> Iterator[list[str]]:
    for batch in pq.ParquetFile(parquet).iter_batches():
        yield from csv_rows(batch)


def _check_datapackage(
    store: ObjectStore,
    prefix: str,
    names: list[str],
    files: list[dict[str, Any]],
    report: VerifyReport,
    scan: Scan,
) -> None:
    key = prefix + DATAPACKAGE_FILE
    if DATAPACKAGE_FILE not in names:
        report.add(key, "missing")
        return
    try:
        package = json.loads(store.get(key))
        resources = {r["path"]: r for r in package["resources"]}
    except (ValueError, KeyError, TypeError) as exc:
        report.add(key, f"unreadable Data Package: {exc}")
        return
    check_content_type(store, key, report)
    scan.texts(key, [json.dumps(package, ensure_ascii=False)])
    for entry in files:
        resource = resources.get(entry.get("path"))
        if resource is None:
            report.add(key, f"has no resource for {entry.get('path')}")
        elif resource.get("hash") != f"sha256:{entry.get('sha256')}" or resource.get(
            "bytes"
        ) != entry.get("bytes"):
            report.add(key, f"resource {entry.get('path')} disagrees with the manifest")
