"""Rows to a sorted Parquet file and the same rows as CSV, in bounded memory and reproducibly.

How memory stays bounded: rows arrive as an iterable and are converted to Arrow in batches of
`batch_rows`, each appended to an Arrow IPC spill file. The spill file is memory-mapped (the OS
pages it; it is not heap), the sort computes a permutation (8 bytes per row), and the output is
produced one batch at a time by taking rows through the permutation. A 10x bigger input needs
10x disk and 80 bytes more RAM per 10 rows, not 10x RAM.

How bytes stay identical: no wall-clock value anywhere, a total sort order (time, then id), a
fixed row group size, fixed compression settings, and file metadata given by the caller.

CSV conventions (also written into the manifest and the Frictionless descriptor): UTF-8 without
BOM, RFC 4180 quoting (only where needed), CRLF line ends, a header row, empty cell for null,
timestamps as `YYYY-MM-DDTHH:MM:SSZ` (UTC, second precision), dates as `YYYY-MM-DD`, booleans
`true`/`false`, floats in shortest round-trip form (`41.4812`, `1e-07`), lists joined by `; `.
"""

from __future__ import annotations

import csv
import hashlib
import logging
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
import pyarrow.parquet as pq

from openbeat.releases.datasets import DatasetSpec

logger = logging.getLogger(__name__)

# 64k rows per batch and per row group: a few MB of Arrow data per step, and row groups big
# enough for efficient reads by portals and DuckDB.
DEFAULT_BATCH_ROWS = 65536
# zstd level 9: noticeably smaller than the default 1 for text-heavy columns, still fast to write.
ZSTD_LEVEL = 9
CSV_LINE_TERMINATOR = "\r\n"
CSV_LIST_SEPARATOR = "; "
CSV_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


class RowError(ValueError):
    """Rows that do not fit the dataset's columns; the message names the column."""


@dataclass(frozen=True)
class WrittenTables:
    parquet_path: Path
    csv_path: Path
    rows: int
    time_min: str | None
    time_max: str | None


def _memory_pool() -> pa.MemoryPool:
    """A pool that returns freed memory to the OS promptly (mimalloc keeps it, inflating RSS)."""
    try:
        return pa.jemalloc_memory_pool()
    except (NotImplementedError, pa.ArrowNotImplementedError):
        return pa.system_memory_pool()


def _batched(rows: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def _to_batch(
    spec: DatasetSpec, schema: pa.Schema, chunk: list[Mapping[str, Any]]
) -> pa.RecordBatch:
    arrays = []
    for column in spec.columns:
        values = [row.get(column.name) for row in chunk]
        try:
            array = pa.array(values, type=column.type)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as exc:
            raise RowError(f"column {column.name!r} ({column.type}): {exc}") from exc
        if not column.nullable and array.null_count:
            raise RowError(
                f"column {column.name!r} is required but {array.null_count} rows lack it"
            )
        arrays.append(array)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def csv_columns(batch: pa.RecordBatch | pa.Table) -> list[list[str]]:
    """Each column of `batch` as CSV cell strings (the one formatting rule, shared by verify)."""
    out: list[list[str]] = []
    for column in batch.columns:
        t = column.type
        if pa.types.is_timestamp(t):
            text = pc.strftime(
                pc.cast(column, pa.timestamp("s", tz="UTC"), safe=False),
                format=CSV_TIMESTAMP_FORMAT,
            )
        elif pa.types.is_list(t) or pa.types.is_large_list(t):
            text = pc.binary_join(column, CSV_LIST_SEPARATOR)
        else:
            text = pc.cast(column, pa.string())
        out.append(pc.fill_null(text, "").to_pylist())
    return out


def csv_rows(batch: pa.RecordBatch | pa.Table) -> Iterator[list[str]]:
    """Rows of cell strings, in row order."""
    return (list(row) for row in zip(*csv_columns(batch), strict=True))


def _time_bound(column: pa.ChunkedArray, which: str) -> str | None:
    if len(column) == 0 or column.null_count == len(column):
        return None
    value = pc.min_max(column)[which].as_py()
    if hasattr(value, "isoformat"):
        text = value.isoformat()
        return text.replace("+00:00", "Z")
    return str(value)


def write_tables(
    spec: DatasetSpec,
    rows: Iterable[Mapping[str, Any]],
    workdir: Path,
    file_metadata: Mapping[str, str],
    batch_rows: int = DEFAULT_BATCH_ROWS,
) -> WrittenTables:
    """Write `rows`, sorted by the spec's sort key, to workdir/data.parquet and workdir/data.csv."""
    schema = spec.arrow_schema(dict(file_metadata))
    spill = workdir / "rows.arrow"
    count = 0
    with ipc.new_file(spill, schema) as writer:
        for chunk in _batched(rows, batch_rows):
            writer.write_batch(_to_batch(spec, schema, chunk))
            count += len(chunk)
    parquet_path = workdir / "data.parquet"
    csv_path = workdir / "data.csv"
    with pa.memory_map(str(spill)) as source:
        table = ipc.open_file(source).read_all()
        pool = _memory_pool()
        order = pc.sort_indices(
            table.select(list(spec.sort_key)),
            sort_keys=[(name, "ascending", "at_end") for name in spec.sort_key],
            memory_pool=pool,
        )
        with (
            pq.ParquetWriter(
                parquet_path,
                schema,
                compression="zstd",
                compression_level=ZSTD_LEVEL,
                version="2.6",
                use_dictionary=True,
                write_statistics=True,
            ) as pwriter,
            open(csv_path, "w", encoding="utf-8", newline="") as fh,
        ):
            cwriter = csv.writer(fh, lineterminator=CSV_LINE_TERMINATOR)
            cwriter.writerow(spec.column_names)
            for start in range(0, count, batch_rows):
                part = pc.take(table, order.slice(start, batch_rows), memory_pool=pool)
                pwriter.write_table(part, row_group_size=batch_rows)
                cwriter.writerows(csv_rows(part))
        time_min = _time_bound(table.column(spec.time_column), "min")
        time_max = _time_bound(table.column(spec.time_column), "max")
        del table, order
    spill.unlink()
    logger.info("wrote %d rows of %s", count, spec.name)
    return WrittenTables(parquet_path, csv_path, count, time_min, time_max)


def file_digest(path: Path) -> tuple[int, str]:
    """(size in bytes, sha256 hex) of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def count_csv_records(path: Path) -> tuple[list[str], int]:
    """(header, number of records) of a CSV file, honouring quoted line breaks."""
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        return header, sum(1 for _ in reader)
