"""Rows sharing a key are one record: grouping an export with bounded memory, and combining.

Exports such as DataSF's list an incident once per offense, and the rows of one incident need not
be next to each other. `grouped_rows` gathers them in two passes that never hold the whole file:

1. each row's group key (the `group_by` columns) picks one of `buckets` temporary spill files
   (CRC-32 of the key, so the choice is stable across runs), and the row is appended to it;
2. each spill file in turn is read back (a bucket holds about 1/buckets of the file), its rows
   grouped by key in the order of their first line, and the groups handed on.

Memory is therefore one bucket at a time: `bucket_count` sizes buckets to a few MB of source text.
The spill files live in a private temporary folder that is removed when the iteration ends, also
on errors. Rows that cannot be read at all (a wrong number of cells) have no trustworthy key; they
come out as groups of their own, so they are still reported with their line.

Combining (`combine`) is pure: the mapped values of the rows of a group, in line order, become
one value per field by the field's rule: `first` (the first non-empty value, the default),
`min`, `max`, `any`, `all`, or `collect` (lists concatenated without repeats, the default for
list fields such as `offenses`).
"""

from __future__ import annotations

import logging
import os
import pickle
import shutil
import tempfile
import zlib
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from openbeat.emit.mapping import Combine, RowError

logger = logging.getLogger(__name__)

Row = tuple[int, dict[str, Any]]
"""(line, row) as the importer reads them."""

# Source text per spill bucket: a bucket's rows, read back as Python dicts, take roughly 10-20x
# their text size, so 8 MB of text keeps a bucket well under 200 MB of memory.
BUCKET_BYTES = 8 << 20
MAX_BUCKETS = 1024


def bucket_count(size_bytes: int) -> int:
    """Spill buckets for a file of this size: one per BUCKET_BYTES of text, at least one."""
    return max(1, min(MAX_BUCKETS, -(-size_bytes // BUCKET_BYTES)))


def group_key(row: Mapping[str, Any], columns: Iterable[str]) -> tuple[str, ...] | None:
    """The stripped key cells of a row; None when every one of them is empty."""
    key = tuple(str(row.get(c) or "").strip() for c in columns)
    return key if any(key) else None


def grouped_rows(
    rows: Iterable[Row], columns: tuple[str, ...], buckets: int
) -> Iterator[list[Row]]:
    """The rows as groups (each in line order) sharing their `columns` values.

    Rows whose key cells are all empty, and unreadable rows (`__error__`), come out as groups of
    one, so the caller rejects them with their own line.
    """
    if buckets <= 1:
        yield from _group_in_memory(rows, columns)
        return
    folder = Path(tempfile.mkdtemp(prefix="openbeat-group-"))
    try:
        files: list[BinaryIO] = [(folder / f"{i:04d}").open("wb") for i in range(buckets)]
        try:
            for line, row in rows:
                key = None if "__error__" in row else group_key(row, columns)
                if key is None:
                    yield [(line, row)]
                    continue
                index = zlib.crc32("\x1f".join(key).encode()) % buckets
                pickle.dump((line, row), files[index], protocol=pickle.HIGHEST_PROTOCOL)
        finally:
            for handle in files:
                handle.close()
        for i in range(buckets):
            yield from _group_in_memory(_read_spill(folder / f"{i:04d}"), columns)
            os.unlink(folder / f"{i:04d}")  # free the disk as we go
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _read_spill(path: Path) -> Iterator[Row]:
    with path.open("rb") as handle:
        while True:
            try:
                yield pickle.load(handle)
            except EOFError:
                return


def _group_in_memory(rows: Iterable[Row], columns: tuple[str, ...]) -> Iterator[list[Row]]:
    groups: dict[tuple[str, ...], list[Row]] = {}
    for line, row in rows:
        key = None if "__error__" in row else group_key(row, columns)
        if key is None:
            yield [(line, row)]
            continue
        groups.setdefault(key, []).append((line, row))
    # dicts keep insertion order: groups come out in the order of their first row.
    yield from groups.values()


def combine(
    values: list[dict[str, Any]], rules: Mapping[str, Combine], list_fields: frozenset[str]
) -> dict[str, Any]:
    """One record's values from its rows' values (in line order), field by field."""
    names: list[str] = []
    for row in values:
        names.extend(n for n in row if n not in names)
    out: dict[str, Any] = {}
    for name in names:
        rule = rules.get(name, "collect" if name in list_fields else "first")
        column = [row.get(name) for row in values]
        out[name] = _combine_one(rule, column, name)
    return out


def _combine_one(rule: Combine, column: list[Any], name: str) -> Any:
    present = [v for v in column if v is not None]
    if rule == "collect":
        collected: list[Any] = []
        for value in present:
            for item in value if isinstance(value, list) else [value]:
                if item not in collected:
                    collected.append(item)
        return collected
    if not present:
        return None
    if rule == "first":
        return present[0]
    if rule in ("any", "all"):
        if not all(isinstance(v, bool) for v in present):
            raise RowError("bad_combine", name, f"combine rule {rule!r} needs true/false values")
        return any(present) if rule == "any" else all(present)
    try:
        return min(present) if rule == "min" else max(present)
    except TypeError:
        raise RowError(
            "bad_combine", name, f"the rows' values cannot be compared for {rule!r}"
        ) from None
