"""`openbeat verify ROOT`: prove that a published tree is complete, intact and free of PII.

For every release: the manifest lists every file and nothing else is there; each file's bytes,
SHA-256 and row count match; the Parquet schema is the dataset's; the CSV holds the Parquet rows
in the same order; the Frictionless descriptor agrees; objects carry the right Content-Type.
Then `latest.json` must point at a complete release, `catalog/data.json` must be valid DCAT-US
1.1, and every published byte (datasets, feeds, catalog, site) is scanned for PII; the residents'
site must link only to what exists and show nothing finer than the datasets. Private state
(`staging/`, `_internal/`) found in the public root is a problem of its own: it belongs in the
private store.

Every problem is one line naming the object key; `VerifyReport.ok` is False if there is any.
Big files are streamed through a temp folder one batch at a time, never loaded whole.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import fastavro
import pyarrow as pa
import pyarrow.parquet as pq

from openbeat.releases.datasets import DATASETS, DatasetSpec
from openbeat.releases.dcat import CATALOG_KEY, validate_catalog
from openbeat.releases.documents import (
    CSV_CONTENT_TYPE,
    DATAPACKAGE_FILE,
    JSON_CONTENT_TYPE,
    MANIFEST_FILE,
    PARQUET_CONTENT_TYPE,
    release_prefix,
)
from openbeat.releases.pii import PiiScanner, describe
from openbeat.releases.tabular import csv_rows, file_digest
from openbeat.releases.verify_site import verify_site
from openbeat.store.base import ObjectNotFound, ObjectStore
from openbeat.store.local import PRIVATE_PREFIXES

logger = logging.getLogger(__name__)

_RELEASE_KEY = re.compile(r"^datasets/([^/]+)/releases/([^/]+)/(.+)$")
_LATEST_KEY = re.compile(r"^datasets/([^/]+)/latest\.json$")
_LATEST_COPY_KEY = re.compile(r"^datasets/([^/]+)/latest/(.+)$")
_EXPECTED_TYPES = {
    ".parquet": PARQUET_CONTENT_TYPE,
    ".csv": CSV_CONTENT_TYPE,
    ".json": JSON_CONTENT_TYPE,
}
# At most this many findings per object and kind are listed; the rest are counted.
_MAX_FINDINGS_PER_OBJECT = 5
_SEPARATOR = "\x00"
_BLOCK_CHARS = 1 << 20


@dataclass(frozen=True)
class Problem:
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


@dataclass
class VerifyReport:
    problems: list[Problem] = field(default_factory=list)
    releases_checked: int = 0
    objects_scanned: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, key: str, message: str) -> None:
        self.problems.append(Problem(key, message))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]

    def summary(self) -> str:
        state = "OK" if self.ok else f"FAILED with {len(self.problems)} problem(s)"
        return (
            f"verify {state}: {self.releases_checked} release(s) checked, "
            f"{self.objects_scanned} object(s) scanned for personal data"
        )

    def __str__(self) -> str:
        return "\n".join([*self.lines(), self.summary()])


def _blocks(texts: Iterable[str]) -> Iterator[str]:
    """Cells joined into ~1 MB blocks: one regex pass per block instead of one per cell.

    NUL separates the cells: no pattern matches across it (it is neither a word character nor
    whitespace), so a finding never spans two cells.
    """
    pending: list[str] = []
    size = 0
    for text in texts:
        if not text:
            continue
        pending.append(text.replace(_SEPARATOR, " "))
        size += len(text) + 1
        if size >= _BLOCK_CHARS:
            yield _SEPARATOR.join(pending)
            pending, size = [], 0
    if pending:
        yield _SEPARATOR.join(pending)


class _Scan:
    """PII scanning that caps the findings reported per object."""

    def __init__(self, scanner: PiiScanner, report: VerifyReport) -> None:
        self.scanner = scanner
        self.report = report

    def texts(self, key: str, texts: Iterable[str]) -> None:
        found = 0
        for block in _blocks(texts):
            for finding in self.scanner.scan(block):
                found += 1
                if found <= _MAX_FINDINGS_PER_OBJECT:
                    self.report.add(key, f"personal data: {describe(finding)}")
        if found > _MAX_FINDINGS_PER_OBJECT:
            self.report.add(
                key, f"personal data: {found - _MAX_FINDINGS_PER_OBJECT} more finding(s)"
            )
        self.report.objects_scanned += 1


def verify_tree(
    store: ObjectStore,
    forbidden_names: Iterable[str] = (),
    raw_ids: Iterable[str] = (),
    allowed_emails: Iterable[str] | None = None,
) -> VerifyReport:
    """Check everything under the store root; see the module docstring.

    `allowed_emails`: addresses that may appear (the publisher's contact); by default the
    catalog's contactPoint addresses.
    """
    report = VerifyReport()
    keys = store.list()
    private = [k for k in keys if k.startswith(PRIVATE_PREFIXES)]
    for prefix in sorted({k.split("/", 1)[0] + "/" for k in private}):
        count = sum(1 for k in private if k.startswith(prefix))
        report.add(
            prefix,
            f"private state in the public root ({count} object(s)): move it to "
            "OPENBEAT_PRIVATE_STORE and serve only the public root",
        )
    keys = [k for k in keys if not k.startswith(PRIVATE_PREFIXES)]
    catalog = _check_catalog(store, keys, report)
    if allowed_emails is None:
        allowed_emails = _catalog_emails(catalog)
    scan = _Scan(PiiScanner(forbidden_names, raw_ids, allowed_emails), report)
    releases: dict[tuple[str, str], list[str]] = {}
    others = []
    copies: dict[str, list[str]] = {}
    for key in keys:
        match = _RELEASE_KEY.match(key)
        copy = _LATEST_COPY_KEY.match(key)
        if match:
            releases.setdefault((match.group(1), match.group(2)), []).append(match.group(3))
        elif copy:
            copies.setdefault(copy.group(1), []).append(copy.group(2))
        else:
            others.append(key)
    with tempfile.TemporaryDirectory(prefix="openbeat-verify-") as tmp:
        for (dataset, release_id), names in sorted(releases.items()):
            _verify_release(store, dataset, release_id, names, Path(tmp), report, scan)
    for key in keys:
        match = _LATEST_KEY.match(key)
        if match:
            _check_latest(store, key, match.group(1), report)
    for dataset, names in sorted(copies.items()):
        _check_latest_copies(store, dataset, names, report)
    datasets_with_latest = {m.group(1) for k in keys if (m := _LATEST_KEY.match(k))}
    if releases and CATALOG_KEY not in keys:
        report.add(CATALOG_KEY, "missing, though releases exist")
    if catalog is not None:
        listed = {
            str(d.get("identifier", "")).rsplit("/", 1)[-1] for d in catalog.get("dataset", [])
        }
        for dataset in sorted(datasets_with_latest - listed):
            report.add(CATALOG_KEY, f"does not list dataset {dataset!r}, which has a latest.json")
    for key in others:
        _scan_object(store, key, scan)
    # The residents' site: links resolve, nothing finer than the datasets (verify_site.py).
    verify_site(store, keys, report.add)
    logger.info(report.summary())
    return report


def _check_catalog(store: ObjectStore, keys: list[str], report: VerifyReport) -> Any:
    if CATALOG_KEY not in keys:
        return None
    try:
        catalog = json.loads(store.get(CATALOG_KEY))
    except ValueError as exc:
        report.add(CATALOG_KEY, f"not valid JSON: {exc}")
        return None
    for problem in validate_catalog(catalog):
        report.add(CATALOG_KEY, f"invalid DCAT-US 1.1: {problem}")
    _check_content_type(store, CATALOG_KEY, report)
    return catalog if isinstance(catalog, dict) else None


def _catalog_emails(catalog: Any) -> list[str]:
    emails = []
    for dataset in (catalog or {}).get("dataset", []):
        contact = dataset.get("contactPoint") or {}
        email = str(contact.get("hasEmail", ""))
        if email.startswith("mailto:"):
            emails.append(email[len("mailto:") :])
    return emails


def _check_content_type(store: ObjectStore, key: str, report: VerifyReport) -> None:
    expected = _EXPECTED_TYPES.get(Path(key).suffix)
    if expected is None:
        return
    actual = store.head(key).content_type
    if actual.split(";")[0].strip() != expected.split(";")[0].strip():
        report.add(key, f"Content-Type is {actual!r}, expected {expected!r}")


def _check_latest(store: ObjectStore, key: str, dataset: str, report: VerifyReport) -> None:
    try:
        latest = json.loads(store.get(key))
        release_id = str(latest["release_id"])
    except (ValueError, KeyError, TypeError) as exc:
        report.add(key, f"unreadable pointer: {exc}")
        return
    if "/" in release_id or release_id.startswith("."):
        report.add(key, f"release_id {release_id!r} is not a plain release id")
        return
    manifest = release_prefix(dataset, release_id) + MANIFEST_FILE
    if not store.exists(manifest):
        report.add(key, f"points at release {release_id}, which has no {manifest}")
    _check_content_type(store, key, report)
    if not store.head(key).cache_control:
        report.add(key, "has no Cache-Control")


def _check_latest_copies(
    store: ObjectStore, dataset: str, names: list[str], report: VerifyReport
) -> None:
    """The stable copies under datasets/<dataset>/latest/ must be byte for byte the files of
    the release latest.json names (which were checked and scanned as part of that release)."""
    try:
        release_id = str(json.loads(store.get(f"datasets/{dataset}/latest.json"))["release_id"])
    except (ObjectNotFound, ValueError, KeyError, TypeError):
        report.add(f"datasets/{dataset}/latest/", "copies without a readable latest.json")
        return
    prefix = release_prefix(dataset, release_id)
    for name in sorted(names):
        key = f"datasets/{dataset}/latest/{name}"
        try:
            same = store.head(key).etag == store.head(prefix + name).etag or (
                _digest(store, key) == _digest(store, prefix + name)
            )
        except ObjectNotFound:
            report.add(key, f"is not a file of release {release_id}")
            continue
        if not same:
            report.add(key, f"differs from {prefix}{name}, the release latest.json names")
        _check_content_type(store, key, report)


def _digest(store: ObjectStore, key: str) -> tuple[int, str]:
    with tempfile.TemporaryDirectory(prefix="openbeat-verify-") as tmp:
        local = Path(tmp) / "object"
        store.download(key, local)
        return file_digest(local)


def _verify_release(
    store: ObjectStore,
    dataset: str,
    release_id: str,
    names: list[str],
    tmp: Path,
    report: VerifyReport,
    scan: _Scan,
) -> None:
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
        _check_content_type(store, key, report)
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
    for local in tmp.iterdir():
        local.unlink()


def _check_parquet(
    key: str,
    local: Path,
    entry: dict[str, Any],
    spec: DatasetSpec | None,
    report: VerifyReport,
    scan: _Scan,
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
    scan.texts(key, _parquet_strings(pfile))
    return True


def _parquet_strings(pfile: pq.ParquetFile) -> Iterable[str]:
    for batch in pfile.iter_batches():
        for column in batch.columns:
            t = column.type
            if pa.types.is_list(t) or pa.types.is_large_list(t):
                column, t = column.flatten(), t.value_type
            if pa.types.is_string(t) or pa.types.is_large_string(t):
                # One joined string per column and batch: the scanner's blocks stay cheap.
                yield _SEPARATOR.join(v.replace(_SEPARATOR, " ") for v in column.to_pylist() if v)


def _check_csv(
    key: str,
    local: Path,
    entry: dict[str, Any],
    spec: DatasetSpec | None,
    parquet: Path | None,
    report: VerifyReport,
    scan: _Scan,
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
    scan.texts(key, _text_chunks(local))


def _text_chunks(local: Path) -> Iterator[str]:
    """A CSV file in ~1 MB pieces cut at line ends, a NUL after each line end so no pattern
    spans two rows (commas already stop every pattern within a row)."""
    with open(local, encoding="utf-8", errors="replace", newline="") as fh:
        rest = ""
        while chunk := fh.read(_BLOCK_CHARS):
            text = rest + chunk
            cut = text.rfind("\n") + 1
            if cut == 0:
                rest = text
                continue
            rest = text[cut:]
            yield text[:cut].replace("\n", "\n" + _SEPARATOR)
        if rest:
            yield rest


def _parquet_csv_rows(parquet: Path) -> Iterator[list[str]]:
    for batch in pq.ParquetFile(parquet).iter_batches():
        yield from csv_rows(batch)


def _check_datapackage(
    store: ObjectStore,
    prefix: str,
    names: list[str],
    files: list[dict[str, Any]],
    report: VerifyReport,
    scan: _Scan,
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
    _check_content_type(store, key, report)
    scan.texts(key, [json.dumps(package, ensure_ascii=False)])
    for entry in files:
        resource = resources.get(entry.get("path"))
        if resource is None:
            report.add(key, f"has no resource for {entry.get('path')}")
        elif resource.get("hash") != f"sha256:{entry.get('sha256')}" or resource.get(
            "bytes"
        ) != entry.get("bytes"):
            report.add(key, f"resource {entry.get('path')} disagrees with the manifest")


def _scan_object(store: ObjectStore, key: str, scan: _Scan) -> None:
    """PII scan of an object outside the release folders (feeds, catalog, pointers, staging)."""
    data = store.get(key)
    if key.endswith(".avro"):
        try:
            records = list(fastavro.reader(io.BytesIO(data)))
        except (ValueError, EOFError, fastavro.read.SchemaResolutionError) as exc:
            scan.report.add(key, f"unreadable Avro: {exc}")
            return
        scan.texts(key, [json.dumps(r, default=str, ensure_ascii=False) for r in records])
        return
    text = data.decode("utf-8", errors="replace")
    if key.endswith(".ics"):
        # RFC 5545 folds long lines (CRLF + one space); scan the unfolded text, else a fold
        # after a digit glues it to the next line's block ('1' + '10XX N 63RD PL').
        text = text.replace("\r\n ", "").replace("\r\n\t", "")
    scan.texts(key, [text])
