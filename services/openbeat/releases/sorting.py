"""Rows in any order back in the dataset's sort order, in bounded memory: sorted runs and a merge.

A release can hold a city's whole history (Chicago: ~8M incidents), so the sort cannot hold the
dataset, nor even its sort keys and permutation (~50 bytes a row, 500 MB at 10M rows), nor read
it through a memory-mapped file in permutation order (every page of the file ends up resident:
2 GB of RSS at 10M rows, and thrashing under a 1 GB limit). Instead:

- batches are collected in memory up to `RUN_BYTES`; a full run is sorted and written to a run
  file in blocks of `BLOCK_ROWS`, in sort order, read back later with plain file reads;
- the runs are merged a block at a time: rows below the smallest last key buffered among runs
  that still have blocks on disk cannot be preceded by anything unread, so they are sorted
  together (Arrow, in C++) and emitted; the Python work is a few binary searches per block;
- an input that fits in one run (every release up to ~1M incident rows) never touches the disk.

The order is exactly that of one stable sort of the whole input (`pc.sort_indices`, nulls last):
runs are consecutive stretches of the input, each sorted stably, and rows with equal keys are
merged in run order. So the published bytes do not depend on `RUN_BYTES` (a test forces many
runs and compares with the single sort).
"""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc

logger = logging.getLogger(__name__)

# Arrow bytes collected before a run is sorted and spilled: the sort needs about twice this at
# its peak (the run and one block taken from it), which keeps a 10M-row release well under 1 GB
# while any release up to ~1M incident rows (~200 MB of Arrow) is sorted in memory in one go.
RUN_BYTES = 256 * 1024 * 1024
# Rows per block of a run file: a few MB each, so k runs buffer k blocks (tens of MB at 10M
# rows) and the merge does ~one Python step per block.
BLOCK_ROWS = 16384

Key = tuple[tuple[int, int, Any], ...]


def memory_pool() -> pa.MemoryPool:
    """A pool that returns freed memory to the OS promptly (mimalloc keeps it, inflating RSS)."""
    try:
        return pa.jemalloc_memory_pool()
    except (NotImplementedError, pa.ArrowNotImplementedError):
        return pa.system_memory_pool()


def _sort_order(table: pa.Table, keys: Sequence[str], pool: pa.MemoryPool) -> pa.Array:
    return pc.sort_indices(
        table.select(list(keys)),
        sort_keys=[(name, "ascending", "at_end") for name in keys],
        memory_pool=pool,
    )


def _value_of(t: pa.DataType) -> Callable[[pa.Scalar], Any]:
    # Timestamps compare by their integer value (no time zone objects); everything else by its
    # Python value, which orders as Arrow does (str by code point = UTF-8 bytes, dates, ints).
    if pa.types.is_timestamp(t):
        return lambda s: s.value
    return lambda s: s.as_py()


def _key_part(scalar: pa.Scalar, value: Callable[[pa.Scalar], Any]) -> tuple[int, int, Any]:
    """A sort key component ordered as `pc.sort_indices` orders it: values, then NaN, then null."""
    if not scalar.is_valid:
        return (1, 0, 0)
    v = value(scalar)
    if isinstance(v, float) and v != v:
        return (0, 1, 0)
    return (0, 0, v)


class _Run:
    """One sorted run file, read a block at a time into a buffer of rows not yet merged."""

    def __init__(self, path: Path, keys: Sequence[str], schema: pa.Schema) -> None:
        self._file = pa.OSFile(str(path), "rb")
        self._reader = ipc.open_file(self._file)
        self._next = 0
        self._keys = [(name, _value_of(schema.field(name).type)) for name in keys]
        self.buffer: pa.Table = schema.empty_table()

    @property
    def on_disk(self) -> bool:
        """Whether blocks remain unread: only such a run bounds what can be emitted."""
        return self._next < self._reader.num_record_batches

    def load(self) -> None:
        batch = self._reader.get_batch(self._next)
        self._next += 1
        block = pa.Table.from_batches([batch])
        self.buffer = pa.concat_tables([self.buffer, block]) if len(self.buffer) else block

    def key(self, i: int) -> Key:
        return tuple(_key_part(self.buffer.column(name)[i], value) for name, value in self._keys)

    def take_below(self, bound: Key | None) -> pa.Table:
        """Remove and return the buffered rows whose key is below `bound` (all, if None)."""
        n = len(self.buffer)
        count = n if bound is None else bisect_left(range(n), bound, key=self.key)
        head, self.buffer = self.buffer.slice(0, count), self.buffer.slice(count)
        return head

    def close(self) -> None:
        self._file.close()


class SortedRows:
    """Collects record batches and gives them back in sort order, in tables of a fixed size."""

    def __init__(
        self,
        schema: pa.Schema,
        keys: Sequence[str],
        workdir: Path,
        run_bytes: int = RUN_BYTES,
        block_rows: int = BLOCK_ROWS,
    ) -> None:
        self.schema = schema
        self.keys = tuple(keys)
        self.workdir = workdir
        self.run_bytes = run_bytes
        self.block_rows = block_rows
        self.pool = memory_pool()
        self.rows = 0
        self._pending: list[pa.RecordBatch] = []
        self._pending_bytes = 0
        self._runs: list[Path] = []

    def add(self, batch: pa.RecordBatch) -> None:
        self._pending.append(batch)
        self._pending_bytes += batch.nbytes
        self.rows += batch.num_rows
        if self._pending_bytes >= self.run_bytes:
            self._spill()

    def _take_pending(self) -> pa.Table:
        """The collected batches as one table of one chunk per column: `pc.take` on a chunked
        column concatenates it on every call (measured: 40x slower per block than one chunk)."""
        table = pa.Table.from_batches(self._pending, schema=self.schema)
        self._pending, self._pending_bytes = [], 0
        return table.combine_chunks(memory_pool=self.pool)

    def _spill(self) -> None:
        table = self._take_pending()
        order = _sort_order(table, self.keys, self.pool)
        path = self.workdir / f"run-{len(self._runs):05d}.arrow"
        with pa.OSFile(str(path), "wb") as sink, ipc.new_file(sink, self.schema) as writer:
            for start in range(0, len(table), self.block_rows):
                block = pc.take(table, order.slice(start, self.block_rows), memory_pool=self.pool)
                writer.write_table(block.combine_chunks(memory_pool=self.pool))
        self._runs.append(path)
        logger.debug("spilled sorted run %d (%d rows)", len(self._runs), len(table))

    def tables(self, size: int) -> Iterator[pa.Table]:
        """Every row in sort order, as tables of `size` rows (the last one shorter), each one
        chunk per column whatever the runs were (the same bytes always)."""
        if not self._runs:
            table = self._take_pending()
            order = _sort_order(table, self.keys, self.pool)
            for start in range(0, len(table), size):
                part = pc.take(table, order.slice(start, size), memory_pool=self.pool)
                yield part.combine_chunks(memory_pool=self.pool)
            return
        if self._pending:
            self._spill()
        yield from _fixed_size(self._merged(), size, self.pool)

    def _merged(self) -> Iterator[pa.Table]:
        runs = [_Run(path, self.keys, self.schema) for path in self._runs]
        try:
            while True:
                for run in runs:
                    if not len(run.buffer) and run.on_disk:
                        run.load()
                live = [run for run in runs if len(run.buffer)]
                if not live:
                    return
                bounding = [run for run in live if run.on_disk]
                bound = min(run.key(len(run.buffer) - 1) for run in bounding) if bounding else None
                heads = [run.take_below(bound) for run in live]
                if not any(len(head) for head in heads):
                    # Every buffered row equals the bound: read on in the runs holding it.
                    for run in bounding:
                        if run.key(len(run.buffer) - 1) == bound:
                            run.load()
                    continue
                merged = pa.concat_tables([head for head in heads if len(head)])
                yield pc.take(merged, _sort_order(merged, self.keys, self.pool))
        finally:
            for run in runs:
                run.close()
            for path in self._runs:
                path.unlink(missing_ok=True)


def _fixed_size(tables: Iterator[pa.Table], size: int, pool: pa.MemoryPool) -> Iterator[pa.Table]:
    pieces: list[pa.Table] = []
    held = 0
    for table in tables:
        pieces.append(table)
        held += len(table)
        while held >= size:
            joined = pa.concat_tables(pieces)
            yield joined.slice(0, size).combine_chunks(memory_pool=pool)
            rest = joined.slice(size)
            pieces, held = ([rest] if len(rest) else []), len(rest)
    if held:
        yield pa.concat_tables(pieces).combine_chunks(memory_pool=pool)
