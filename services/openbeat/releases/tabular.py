"""Rows to a sorted Parquet file and the same rows as CSV, in bounded memory and reproducibly.

How memory stays bounded: rows arrive as an iterable and are converted to Arrow in slices of
`CONVERT_ROWS` (so few row dicts are alive at once); the sort holds at most `RUN_BYTES` of Arrow
data at once and spills sorted runs to disk beyond that (`sorting`), and the output is produced
one batch at a time. A 10x bigger input needs 10x disk, not 10x RAM (bench/release.py measures
a 10M-row release).

How it stays fast: rows become Arrow through pyarrow's C++ converter (one struct array per
batch), and the CSV text is built by Arrow compute kernels (cast, quote, join) and written as
one buffer per batch; no Python object per cell on either path. The Parquet file is written by a
second thread while the CSV is formatted (pyarrow releases the GIL), and the CSV's SHA-256 is
computed as it is written.

How bytes stay identical: no wall-clock value anywhere, a total sort order (time, then id), a
fixed row group size, fixed compression settings, and file metadata given by the caller.

CSV conventions (also written into the manifest and the Frictionless descriptor): UTF-8 without
BOM, RFC 4180 quoting (only where needed), CRLF line ends, a header row, empty cell for null,
timestamps as `YYYY-MM-DDTHH:MM:SSZ` (UTC, second precision), dates as `YYYY-MM-DD`, booleans
`true`/`false`, floats in shortest round-trip form (`41.4812`, `1e-7`), lists as JSON arrays
(`["a", "b"]`, `[]` for an empty list): no separator inside a value can make them ambiguous.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import chain, islice
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from openbeat.releases import sorting
from openbeat.releases.datasets import DatasetSpec
from openbeat.releases.json_lists import json_lists
from openbeat.releases.sorting import SortedRows

logger = logging.getLogger(__name__)

# 64k rows per batch and per row group: a few MB of Arrow data per step, and row groups big
# enough for efficient reads by portals and DuckDB.
DEFAULT_BATCH_ROWS = 65536
# Input rows are converted in slices of at most this many: a row dict costs ~10x its Arrow
# form, so the Python objects held at once stay a few MB. Spill batches do not shape the output
# (row groups are cut from the sorted permutation), so this does not change any published byte.
CONVERT_ROWS = 8192
# zstd level 9: noticeably smaller than the default 1 for text-heavy columns, still fast to write.
ZSTD_LEVEL = 9
CSV_LINE_TERMINATOR = "\r\n"
CSV_LIST_FORMAT = "JSON array"
CSV_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# Local wall-clock times: no zone suffix (the zone is in the metadata and the column docs).
CSV_LOCAL_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S"
# Python's csv module (QUOTE_MINIMAL, excel dialect) quotes a cell holding any of these.
_NEEDS_QUOTES = r'[,"\r\n]'
_QUOTE = pa.scalar('"')


class RowError(ValueError):
    """Rows that do not fit the dataset's columns; the message names the column."""


@dataclass(frozen=True)
class WrittenTables:
    parquet_path: Path
    csv_path: Path
    rows: int
    time_min: str | None
    time_max: str | None
    csv_digest: tuple[int, str]  # (bytes, sha256 hex) of the CSV file, computed as it was written


def _batched(rows: Iterable[Mapping[str, Any]], size: int) -> Iterator[list[Mapping[str, Any]]]:
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def _batches(
    spec: DatasetSpec,
    schema: pa.Schema,
    rows: Iterable[Mapping[str, Any]] | Iterable[pa.Table],
    batch_rows: int,
    timezone: str,
) -> Iterator[pa.RecordBatch]:
    """Row dicts converted a slice at a time, or Arrow tables of the columns taken as they are."""
    it = iter(rows)
    first = next(it, None)
    if first is None:
        return
    if isinstance(first, pa.Table):
        for table in chain([first], it):
            assert isinstance(table, pa.Table)
            if len(table):
                yield _table_batch(spec, schema, table, timezone)
        return
    dicts: Iterator[Mapping[str, Any]] = chain([first], it)
    for chunk in _batched(dicts, min(batch_rows, CONVERT_ROWS)):
        yield _to_batch(spec, schema, chunk, timezone)


def _to_batch(
    spec: DatasetSpec,
    schema: pa.Schema,
    chunk: list[Mapping[str, Any]],
    timezone: str = "UTC",
) -> pa.RecordBatch:
    """One batch of rows as Arrow, checked against the spec (required columns present)."""
    fields = [pa.field(c.name, c.type) for c in spec.columns]
    return _checked(spec, schema, to_arrays(fields, chunk), timezone)


def to_arrays(fields: list[pa.Field], rows: Sequence[Mapping[str, Any]]) -> list[pa.Array]:
    """The `fields` of `rows` as Arrow arrays (absent keys are null).

    The fast path converts the whole chunk in C++ as a struct array; any failure (a bad value, a
    row that is a Mapping but not a dict) falls back to converting column by column, which
    either succeeds the same way or raises `RowError` naming the column.
    """
    try:
        return list(pa.array(rows, type=pa.struct(fields)).flatten())
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        return [_to_array(field, rows) for field in fields]


def _table_batch(
    spec: DatasetSpec, schema: pa.Schema, table: pa.Table, timezone: str
) -> pa.RecordBatch:
    """A table of the dataset's columns (`releases.latest`) as one batch, checked as rows are."""
    arrays = []
    for column in spec.columns:
        array = table.column(column.name).combine_chunks()
        arrays.append(array if array.type == column.type else array.cast(column.type))
    return _checked(spec, schema, arrays, timezone)


def _checked(
    spec: DatasetSpec, schema: pa.Schema, arrays: list[pa.Array], timezone: str
) -> pa.RecordBatch:
    arrays = _with_local_columns(spec, arrays, timezone)
    for column, array in zip(spec.columns, arrays, strict=True):
        if not column.nullable and array.null_count:
            raise RowError(
                f"column {column.name!r} is required but {array.null_count} rows lack it"
            )
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def _with_local_columns(spec: DatasetSpec, arrays: list[pa.Array], timezone: str) -> list[pa.Array]:
    """Fill the `local_of` columns from their UTC column on the time zone's wall clock (Arrow
    kernels: no Python object per row); where the UTC value is empty the row's own value stays.
    """
    index = {c.name: i for i, c in enumerate(spec.columns)}
    for i, column in enumerate(spec.columns):
        if column.local_of is None:
            continue
        utc = arrays[index[column.local_of]]
        local = pc.local_timestamp(utc.cast(pa.timestamp(utc.type.unit, tz=timezone)))
        arrays[i] = pc.if_else(pc.is_valid(utc), local.cast(column.type), arrays[i])
    return arrays


def _to_array(field: pa.Field, rows: Sequence[Mapping[str, Any]]) -> pa.Array:
    values = [row.get(field.name) for row in rows]
    try:
        return pa.array(values, type=field.type)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError) as exc:
        raise RowError(f"column {field.name!r} ({field.type}): {exc}") from exc


def _cell_texts(batch: pa.RecordBatch | pa.Table) -> list[pa.Array | pa.ChunkedArray]:
    """Each column of `batch` as CSV cell text before quoting (the one formatting rule)."""
    out = []
    for column in batch.columns:
        t = column.type
        if pa.types.is_timestamp(t) and t.tz is None:
            text = pc.strftime(
                pc.cast(column, pa.timestamp("s"), safe=False), format=CSV_LOCAL_TIMESTAMP_FORMAT
            )
        elif pa.types.is_timestamp(t):
            text = pc.strftime(
                pc.cast(column, pa.timestamp("s", tz="UTC"), safe=False),
                format=CSV_TIMESTAMP_FORMAT,
            )
        elif pa.types.is_list(t) or pa.types.is_large_list(t):
            text = json_lists(column)
        else:
            text = pc.cast(column, pa.string())
        out.append(pc.fill_null(text, ""))
    return out


def csv_columns_arrow(batch: pa.RecordBatch | pa.Table) -> list[pa.Array | pa.ChunkedArray]:
    """Each column of `batch` as Arrow arrays of CSV cell text (nulls as empty text)."""
    return _cell_texts(batch)


def csv_columns(batch: pa.RecordBatch | pa.Table) -> list[list[str]]:
    """Each column of `batch` as CSV cell strings (the one formatting rule, shared by verify)."""
    return [text.to_pylist() for text in _cell_texts(batch)]


def csv_rows(batch: pa.RecordBatch | pa.Table) -> Iterator[list[str]]:
    """Rows of cell strings, in row order."""
    return (list(row) for row in zip(*csv_columns(batch), strict=True))


def _cannot_need_quotes(t: pa.DataType) -> bool:
    """Types whose text never holds a comma, quote or line break."""
    return bool(
        pa.types.is_integer(t)
        or pa.types.is_floating(t)
        or pa.types.is_boolean(t)
        or pa.types.is_temporal(t)
    )


def _quoted(text: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """RFC 4180 minimal quoting, as Python's csv module does it: a cell holding a comma, a
    quote, CR or LF is wrapped in quotes with inner quotes doubled; every other cell is as is."""
    needs = pc.match_substring_regex(text, _NEEDS_QUOTES)
    if not pc.any(needs).as_py():
        return text
    wrapped = pc.binary_join_element_wise(_QUOTE, pc.replace_substring(text, '"', '""'), _QUOTE, "")
    return pc.if_else(needs, wrapped, text)


def csv_header(names: list[str]) -> bytes:
    """The header record, formatted by Python's csv module (names are few and short)."""
    out = io.StringIO()
    csv.writer(out, lineterminator=CSV_LINE_TERMINATOR).writerow(names)
    return out.getvalue().encode("utf-8")


def csv_records(batch: pa.RecordBatch | pa.Table) -> list[memoryview]:
    """The CSV records of `batch` as UTF-8 byte buffers, byte-identical to `csv.writer` with
    `lineterminator="\\r\\n"` over `csv_rows(batch)`, but built by Arrow kernels."""
    cells = [
        text if _cannot_need_quotes(column.type) else _quoted(text)
        for column, text in zip(batch.columns, _cell_texts(batch), strict=True)
    ]
    if not cells or len(batch) == 0:
        return []
    lines = pc.binary_join_element_wise(*cells, ",")
    lines = pc.binary_join_element_wise(lines, "", CSV_LINE_TERMINATOR)
    chunks = lines.chunks if isinstance(lines, pa.ChunkedArray) else [lines]
    return [_string_data(chunk) for chunk in chunks if len(chunk)]


def _string_data(array: pa.Array) -> memoryview:
    """The concatenated UTF-8 bytes of a null-free string array's values, without a copy."""
    _, offsets_buffer, data_buffer = array.buffers()
    offsets = memoryview(offsets_buffer).cast("i")  # int32 offsets of the `string` type
    start, end = offsets[array.offset], offsets[array.offset + len(array)]
    return memoryview(data_buffer)[start:end]


class _TimeBounds:
    """The least and greatest value of the time column over the batches written."""

    def __init__(self, column: str | None) -> None:
        self.column = column
        self.low: Any = None
        self.high: Any = None

    def add(self, part: pa.Table) -> None:
        if self.column is None:
            return
        extremes = pc.min_max(part.column(self.column))
        low, high = extremes["min"].as_py(), extremes["max"].as_py()
        if low is not None and (self.low is None or low < self.low):
            self.low = low
        if high is not None and (self.high is None or high > self.high):
            self.high = high

    @staticmethod
    def text(value: Any) -> str | None:
        if value is None:
            return None
        if hasattr(value, "isoformat"):
            return str(value.isoformat()).replace("+00:00", "Z")
        return str(value)


def write_tables(
    spec: DatasetSpec,
    rows: Iterable[Mapping[str, Any]] | Iterable[pa.Table],
    workdir: Path,
    file_metadata: Mapping[str, str],
    batch_rows: int = DEFAULT_BATCH_ROWS,
    timezone: str = "UTC",
    run_bytes: int | None = None,
) -> WrittenTables:
    """Write `rows`, sorted by the spec's sort key, to workdir/data.parquet and workdir/data.csv.

    `timezone` is the IANA zone the `local_of` columns are computed in; `run_bytes` bounds the
    Arrow data sorted in memory at once (`sorting`; it changes no published byte).
    """
    schema = spec.arrow_schema(dict(file_metadata))
    ordered = SortedRows(schema, spec.sort_key, workdir, run_bytes=run_bytes or sorting.RUN_BYTES)
    for batch in _batches(spec, schema, rows, batch_rows, timezone):
        ordered.add(batch)
    count = ordered.rows
    parquet_path = workdir / "data.parquet"
    csv_path = workdir / "data.csv"
    bounds = _TimeBounds(spec.time_column)
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
        open(csv_path, "wb") as fh,
        ThreadPoolExecutor(max_workers=1, thread_name_prefix="parquet") as parquet_thread,
    ):
        csv_sink = _HashingWriter(fh)
        csv_sink.write(csv_header(spec.column_names))
        # One writer thread keeps the row groups in order; waiting for the previous group
        # before queueing the next keeps at most two batches in memory.
        queued: Future[None] | None = None
        for part in ordered.tables(batch_rows):
            bounds.add(part)
            if queued is not None:
                queued.result()
            queued = parquet_thread.submit(pwriter.write_table, part, batch_rows)
            for data in csv_records(part):
                csv_sink.write(data)
            del part
        if queued is not None:
            queued.result()
    logger.info("wrote %d rows of %s", count, spec.name)
    return WrittenTables(
        parquet_path,
        csv_path,
        count,
        bounds.text(bounds.low),
        bounds.text(bounds.high),
        (csv_sink.size, csv_sink.hexdigest()),
    )


class _HashingWriter:
    """Writes to a binary file and keeps its size and SHA-256, saving a second read."""

    def __init__(self, fh: BinaryIO) -> None:
        self.fh = fh
        self.digest = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes | memoryview) -> None:
        self.fh.write(data)
        self.digest.update(data)
        self.size += len(data)

    def hexdigest(self) -> str:
        return self.digest.hexdigest()


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
