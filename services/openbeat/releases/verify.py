"""`openbeat verify ROOT`: prove that a published tree is complete, intact and free of PII.

For every release (`verify_release`): the manifest lists every file and nothing else is there;
each file's bytes, SHA-256 and row count match; the Parquet schema is the dataset's; the CSV
holds the Parquet rows in the same order; the Frictionless descriptor agrees; objects carry the
right Content-Type; and the release gate passes (`releases.gate`: pseudonym key id, typed
columns checked with the anonymizer's own functions, differencing against the other releases;
`previous` adds the comparison of each release with the one before it). Then `latest.json` must
point at a complete release, `catalog/data.json` must be valid DCAT-US 1.1, and every published
byte (datasets, feeds, site pages, calendars unfolded, GeoJSON, CSV, JSON, the catalog) is
scanned for PII (`verify_scan`); the residents' site must link only to what exists and show
nothing finer than the datasets. Private state (`staging/`, `_internal/`) found in the public
root is a problem of its own: it belongs in the private store.

Every problem is one line naming the object key; `VerifyReport.ok` is False if there is any.
Big files are streamed through a temp folder one batch at a time, never loaded whole.
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from openbeat.releases.dcat import CATALOG_KEY, validate_catalog
from openbeat.releases.documents import MANIFEST_FILE, release_prefix
from openbeat.releases.gate import Gate, ReleaseView, StorePeers
from openbeat.releases.gate_rules import SEALED_DATASETS
from openbeat.releases.pii import PiiScanner
from openbeat.releases.tabular import file_digest
from openbeat.releases.verify_release import check_content_type, verify_release
from openbeat.releases.verify_scan import Problem, Scan, VerifyReport, scan_object
from openbeat.releases.verify_site import verify_site
from openbeat.store.base import ObjectNotFound, ObjectStore
from openbeat.store.local import PRIVATE_PREFIXES

logger = logging.getLogger(__name__)

__all__ = ["Problem", "VerifyReport", "verify_tree"]

_RELEASE_KEY = re.compile(r"^datasets/([^/]+)/releases/([^/]+)/(.+)$")
_LATEST_KEY = re.compile(r"^datasets/([^/]+)/latest\.json$")
_LATEST_COPY_KEY = re.compile(r"^datasets/([^/]+)/latest/(.+)$")


def verify_tree(
    store: ObjectStore,
    forbidden_names: Iterable[str] = (),
    raw_ids: Iterable[str] = (),
    allowed_emails: Iterable[str] | None = None,
    *,
    previous: str | None = None,
    gate: Gate | None = None,
) -> VerifyReport:
    """Check everything under the store root; see the module docstring.

    `allowed_emails`: addresses that may appear (the publisher's contact); by default the
    catalog's contactPoint addresses. `previous`: a release id; every release after it is also
    compared with the release of its dataset before it (`--previous`: sealed figures, withdrawn
    ids). `gate`: the release gate (by default one that refuses the development key and
    checks no names; `openbeat verify` passes `Gate.of(jurisdiction)`, which checks partners
    and venues against the jurisdiction's name registry).
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
    scan = Scan(PiiScanner(forbidden_names, raw_ids, allowed_emails), report)
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
    gate = gate or Gate()
    with tempfile.TemporaryDirectory(prefix="openbeat-verify-") as tmp:
        files, peer_files = Path(tmp) / "release", Path(tmp) / "peers"
        files.mkdir()
        peers = StorePeers(store, peer_files, sorted(releases))

        def check(view: ReleaseView) -> list[str]:
            # Sealed aggregates are small: always compared with their previous release (else
            # count minus rows could not tell the days this release seals). Row-level
            # releases only after `previous`.
            compare = view.dataset in SEALED_DATASETS or (
                previous is not None and view.release_id > previous
            )
            return gate.check(view, peers.of(view.dataset, view.release_id, previous=compare))

        for (dataset, release_id), names in sorted(releases.items()):
            verify_release(store, dataset, release_id, names, files, report, scan, check)
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
        scan_object(store, key, scan)
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
    check_content_type(store, CATALOG_KEY, report)
    return catalog if isinstance(catalog, dict) else None


def _catalog_emails(catalog: Any) -> list[str]:
    emails = []
    for dataset in (catalog or {}).get("dataset", []):
        contact = dataset.get("contactPoint") or {}
        email = str(contact.get("hasEmail", ""))
        if email.startswith("mailto:"):
            emails.append(email[len("mailto:") :])
    return emails


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
    check_content_type(store, key, report)
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
        check_content_type(store, key, report)


def _digest(store: ObjectStore, key: str) -> tuple[int, str]:
    with tempfile.TemporaryDirectory(prefix="openbeat-verify-") as tmp:
        local = Path(tmp) / "object"
        store.download(key, local)
        return file_digest(local)
