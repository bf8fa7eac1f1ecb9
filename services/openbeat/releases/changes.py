"""The change log of a release (`changes.json`): what a portal that upserts must do.

Rows are matched to the previous release of the same dataset (the newest release id before
this one in the store) by the dataset's primary key: a key only in this release is added, a key
in both with any other cell is revised, a key only in the previous release is removed. Removed
ids are listed without a reason, as every removal looks the same whatever caused it (a
correction, a withdrawal, a record that became non-public). Only ids that were published in the
previous release can appear, so nothing here names an id that was never public.

The first release of a dataset has no previous one: every row is added, and no ids are listed
(they are the release's own rows). Rows are compared as their CSV cell texts (the one
formatting rule), joined by Arrow, so a million-row release needs no Python object per row.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from openbeat.releases.datasets import DatasetSpec
from openbeat.releases.documents import (
    CHANGES_FILE,
    MANIFEST_FILE,
    PARQUET_FILE,
    canonical_json,
    release_prefix,
)
from openbeat.releases.tabular import csv_columns_arrow
from openbeat.store.base import ObjectNotFound, ObjectStore

CHANGES_VERSION = 1
_RELEASE_ID = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{6}Z$")
_ROW = "__openbeat_row"
_SEP = "\x1f"


def previous_release_id(release_ids: list[str], release_id: str) -> str | None:
    """The newest release id before `release_id` (ids sort by time)."""
    earlier = [r for r in release_ids if _RELEASE_ID.match(r) and r < release_id]
    return max(earlier) if earlier else None


def _keyed(spec: DatasetSpec, parquet: Path, columns: list[str]) -> pa.Table:
    """The primary key columns as text, plus one text column holding the other `columns`."""
    table = pq.read_table(parquet, columns=columns)
    texts = dict(zip(columns, csv_columns_arrow(table), strict=True))
    keys = {name: texts[name] for name in spec.primary_key}
    others = [texts[name] for name in columns if name not in spec.primary_key]
    row = pc.binary_join_element_wise(*others, _SEP) if others else pa.array([""] * len(table))
    return pa.table({**keys, _ROW: row})


def _ids(spec: DatasetSpec, table: pa.Table) -> list[Any]:
    if len(table) == 0:
        return []
    table = table.sort_by([(name, "ascending") for name in spec.primary_key])
    if len(spec.primary_key) == 1:
        return table.column(spec.primary_key[0]).to_pylist()
    columns = [table.column(name).to_pylist() for name in spec.primary_key]
    return [list(row) for row in zip(*columns, strict=True)]


def build_changes(
    spec: DatasetSpec,
    release_id: str,
    current: Path,
    previous: Path | None,
    previous_id: str | None,
) -> dict[str, Any]:
    """The change log of `current` (a Parquet file) against `previous` (the same dataset)."""
    base: dict[str, Any] = {
        "changes_version": CHANGES_VERSION,
        "dataset": spec.name,
        "release_id": release_id,
        "previous_release_id": previous_id,
        "key": list(spec.primary_key),
    }
    if previous is None:
        rows = pq.ParquetFile(current).metadata.num_rows
        return {**base, "added": rows, "revised": 0, "removed": 0, "ids": None}
    # Columns both releases have (a release from before a column was added compares the rest).
    old_names = set(pq.read_schema(previous).names)
    common = [name for name in spec.column_names if name in old_names]
    now, before = _keyed(spec, current, common), _keyed(spec, previous, common)
    keys = list(spec.primary_key)
    joined = now.join(
        before.rename_columns([*keys, _ROW + "_before"]), keys=keys, join_type="full outer"
    )
    new_row, old_row = joined.column(_ROW), joined.column(_ROW + "_before")
    added = joined.filter(pc.is_null(old_row))
    removed = joined.filter(pc.is_null(new_row))
    both = joined.filter(pc.and_(pc.is_valid(new_row), pc.is_valid(old_row)))
    revised = both.filter(pc.not_equal(both.column(_ROW), both.column(_ROW + "_before")))
    return {
        **base,
        "added": len(added),
        "revised": len(revised),
        "removed": len(removed),
        "ids": {
            "added": _ids(spec, added),
            "revised": _ids(spec, revised),
            "removed": _ids(spec, removed),
        },
    }


def write_changes(
    store: ObjectStore, spec: DatasetSpec, release_id: str, current: Path, work: Path
) -> Path:
    """Write work/changes.json for the release of `current` and return its path.

    The previous release is the newest complete one (with a manifest) before this one; when
    this release already exists, the one its change log names, so a rerun gives the same bytes
    even if an older release was cut in between.
    """
    root = f"datasets/{spec.name}/releases/"
    try:
        existing = json.loads(store.get(release_prefix(spec.name, release_id) + CHANGES_FILE))
        previous_id = existing.get("previous_release_id")
    except (ObjectNotFound, ValueError, AttributeError):
        complete = [
            key[len(root) :].split("/", 1)[0]
            for key in store.list(root)
            if key.endswith("/" + MANIFEST_FILE)
        ]
        previous_id = previous_release_id(complete, release_id)
    previous: Path | None = None
    if previous_id:
        previous = work / "previous.parquet"
        store.download(release_prefix(spec.name, str(previous_id)) + PARQUET_FILE, previous)
    document = build_changes(spec, release_id, current, previous, previous_id)
    if previous is not None:
        previous.unlink()
    path = work / CHANGES_FILE
    path.write_bytes(canonical_json(document))
    return path
