"""Repairing what a crash between two writes of a release leaves behind, at publisher start.

A release is published in steps (files, the stable `latest/` copies, `latest.json`, the
catalog), so a crash between two of them leaves the later ones behind the earlier:

- the `latest/` copies of a newer release than `latest.json` names (crash before the pointer
  moved): copied back from the release `latest.json` names, which is the truth;
- a catalog (and data dictionary) behind `latest.json` (crash before the catalog was written):
  rebuilt from every `latest.json` (`refresh_catalog` writes only what differs);
- temp files of a killed writer (store.local `clean_leftovers`).

Each repair is idempotent and cheap when there is nothing to do, so the publisher runs it every
time it starts (and `openbeat release` before it cuts).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable

from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.releases.builder import LATEST_COPY_CACHE_CONTROL, refresh_catalog
from openbeat.releases.documents import (
    MANIFEST_FILE,
    latest_copy_prefix,
    latest_key,
    release_prefix,
)
from openbeat.store.base import ObjectNotFound, ObjectStore

logger = logging.getLogger(__name__)


def repair_published(
    store: ObjectStore,
    datasets: Iterable[str],
    jurisdiction: Jurisdiction,
    base_url: str,
    license_url: str | None,
    release_interval_s: int = 0,
) -> list[str]:
    """Bring everything that follows `latest.json` back in line with it; returns what was done
    (one line each) plus any catalog problem."""
    done: list[str] = []
    clean = getattr(store, "clean_leftovers", None)
    if callable(clean):
        done += [f"removed leftover temp file {path}" for path in clean()]
    for dataset in datasets:
        fixed = _realign_latest_copy(store, dataset)
        if fixed:
            done.append(fixed)
    before = _catalog(store)
    problems = refresh_catalog(
        store, jurisdiction, base_url, license_url, release_interval_s=release_interval_s
    )
    if _catalog(store) != before:
        done.append("catalog/data.json was behind latest.json: rebuilt")
    for line in done:
        logger.warning("repair: %s", line)
    return done + problems


def _catalog(store: ObjectStore) -> bytes | None:
    try:
        return store.get("catalog/data.json")
    except ObjectNotFound:
        return None


def _realign_latest_copy(store: ObjectStore, dataset: str) -> str | None:
    """Copy the release latest.json names into `latest/` when the copy holds another one."""
    try:
        release_id = str(json.loads(store.get(latest_key(dataset)))["release_id"])
    except (ObjectNotFound, ValueError, KeyError, TypeError):
        return None
    source, stable = release_prefix(dataset, release_id), latest_copy_prefix(dataset)
    try:
        if store.get(stable + MANIFEST_FILE) == store.get(source + MANIFEST_FILE):
            return None
    except ObjectNotFound:
        if not store.exists(source + MANIFEST_FILE):
            return None  # the release itself is incomplete: nothing sound to copy
    names = [key[len(source) :] for key in store.list(source)]
    # The manifest last, as the builder does: a copy whose manifest matches is complete.
    for name in sorted(names, key=lambda n: n == MANIFEST_FILE):
        info = store.head(source + name)
        store.put(
            stable + name,
            store.get(source + name),
            info.content_type,
            cache_control=LATEST_COPY_CACHE_CONTROL,
        )
    return f"{stable} did not hold release {release_id} of latest.json: copied it back"
