"""`emit FILE` at producer speed: rows converted in forked worker processes, sent in order.

Converting a row (mapping, dates, district lookup, schema check, validation, Avro encoding)
costs about twice what kafka-python spends sending it, so one process reaches a third of the
raw producer's rate. `ImportPipeline` forks workers (as `--sample` does, emit/prepare.py) and
hands them chunks; the main process only reads, sends, counts and writes rejects.

The output is the same as `importer.import_file` followed by one send per record: the same
records, encoded the same way, sent in the same order, the same tally and rejects in the same
order. Chunks are made so that this holds:

- without `group_by` the main process only splits a CSV file into runs of physical lines, each
  parsed in a worker by the same reader (`reading.csv_records`). The worker checks that every
  record of its run is one whole line (the run's last line too: a blank sentinel line after it
  must stay on its own), so that the reader would be at a record boundary at each split. The
  first run failing that check (a multi-line cell, an unclosed quote) and the rest of the file
  are read in the main process exactly as `iter_rows` reads them, and the rows go to the
  workers to convert;
- with `group_by` rows are read and grouped in the main process (`grouping`, which spills to
  disk) and the groups go to the workers in chunks.

Workers tally their chunk; tallies are merged in chunk order, so every counter lists its keys
in the order a single pass would.
"""

from __future__ import annotations

import itertools
import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from types import TracebackType
from typing import Any

from openbeat.contracts.codec import KIND_SCHEMAS, SchemaStore
from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.emit.encoding import record_encoder
from openbeat.emit.grouping import bucket_count, grouped_rows
from openbeat.emit.importer import ImportResult, group_result, open_import, schema_result
from openbeat.emit.mapping import Mapping
from openbeat.emit.prepare import AHEAD_PER_WORKER, close_pool, default_workers, fork_pool
from openbeat.emit.producer import Prepared, event_key, key_hash
from openbeat.emit.reading import (
    DEFAULT_ENCODING,
    LineSource,
    Row,
    csv_records,
    iter_rows,
    lines_of,
    read_header,
)
from openbeat.emit.report import ImportTally

logger = logging.getLogger(__name__)

# Rows per chunk: big enough that a chunk's pickling and hand-over are small next to its work,
# small enough that sending starts at once and the window of chunks in flight stays a few MB.
CHUNK_ROWS = 1000
# Below this file size the fork costs more than it saves: the chunks are made in this process.
MIN_PARALLEL_BYTES = 512 * 1024


@dataclass
class Chunk:
    """What a worker made of one chunk: its tally, the encoded records in order (none in a dry
    run) and the rejected results (for the rejects file)."""

    tally: ImportTally
    prepared: list[Prepared]
    rejected: list[ImportResult]


@dataclass(frozen=True)
class _Job:
    kind: str
    mapping: Mapping | None
    jurisdiction: Jurisdiction
    validation_ctx: Any
    schemas: SchemaStore | None  # None: dry run, nothing is encoded
    header: list[str] | None = None


# The workers' job, set in the parent just before forking so children inherit it unpickled.
_JOB: _Job | None = None


def _results_chunk(job: _Job, groups: list[list[Row]]) -> Chunk:
    tally = ImportTally()
    prepared: list[Prepared] = []
    rejected: list[ImportResult] = []
    schema = KIND_SCHEMAS[job.kind]
    encode = record_encoder(job.schemas, schema) if job.schemas is not None else None
    for group in groups:
        if job.mapping is None:
            line, row = group[0]
            result = schema_result(job.kind, line, row, job.jurisdiction, job.validation_ctx)
        else:
            result = group_result(
                group, job.kind, job.mapping, job.jurisdiction, job.validation_ctx
            )
        tally.add(result)
        if result.record is not None:
            if encode is not None:
                key = event_key(job.kind, result.record)
                prepared.append((job.kind, key, encode(result.record), key_hash(key)))
        elif result.code is not None:
            rejected.append(result)
    return Chunk(tally, prepared, rejected)


def _lines_task(first_line: int, lines: list[str]) -> Chunk | None:
    """The chunk of a run of lines, or None when a record of it is not one whole line."""
    assert _JOB is not None and _JOB.header is not None, "worker started without its job"
    source = lines_of(LineSource([*lines, "\n"]))
    groups = []
    for row in csv_records(source, _JOB.header, first_line):
        if len(source.taken) != 1:
            return None
        groups.append([row])
    return _results_chunk(_JOB, groups)


def _groups_task(groups: list[list[Row]]) -> Chunk:
    assert _JOB is not None, "worker started without its job"
    return _results_chunk(_JOB, groups)


class ImportPipeline:
    """The chunks of one import, in file (or group) order, made by worker processes.

    Enter it before creating the Kafka producer: the workers must be forked while this process
    has no I/O thread. The whole-import checks (`importer.open_import`) run in the constructor,
    so a bad path or mapping fails before anything forks.
    """

    def __init__(
        self,
        path: str | Path,
        kind: str,
        mapping: Mapping | str | Path | None,
        jurisdiction: Jurisdiction,
        validation_ctx: Any,
        schemas: SchemaStore | None,
        workers: int | None = None,
    ) -> None:
        self.path, self.mapping, self.format = open_import(path, kind, mapping)
        self.encoding = self.mapping.encoding if self.mapping is not None else DEFAULT_ENCODING
        self.job = _Job(kind, self.mapping, jurisdiction, validation_ctx, schemas)
        self.workers = default_workers() if workers is None else workers
        if workers is None and self.path.stat().st_size < MIN_PARALLEL_BYTES:
            self.workers = 0
        self._pool: Pool | None = None
        self._header_lines = 0

    @property
    def grouped(self) -> bool:
        return self.mapping is not None and self.mapping.group_by is not None

    def __enter__(self) -> ImportPipeline:
        global _JOB
        if self.format == "csv" and not self.grouped:
            with self.path.open("r", encoding=self.encoding, newline="") as handle:
                source = lines_of(handle)
                header = read_header(source)
                self._header_lines = len(source.taken)
            self.job = _Job(**{**self.job.__dict__, "header": header})
        _JOB = self.job  # read by the tasks, here or in the forked workers
        if self.workers > 0:
            self._pool = fork_pool(self.workers)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _JOB
        close_pool(self._pool)
        self._pool = None
        _JOB = None

    def __iter__(self) -> Iterator[Chunk]:
        if self.format == "csv" and not self.grouped:
            if self.job.header is not None:
                yield from self._line_chunks()
            return
        rows = iter_rows(self.path, self.format, self.encoding)
        groups: Iterator[list[Row]]
        if self.grouped:
            assert self.mapping is not None and self.mapping.group_by is not None
            size = bucket_count(self.path.stat().st_size)
            groups = grouped_rows(rows, self.mapping.group_by.columns, size)
        else:
            groups = ([row] for row in rows)
        yield from self._group_chunks(groups)

    def _submit(self, task: Any, *args: Any) -> AsyncResult[Any] | Any:
        return task(*args) if self._pool is None else self._pool.apply_async(task, args)

    def _group_chunks(self, groups: Iterator[list[Row]]) -> Iterator[Chunk]:
        window: deque[Any] = deque()
        ahead = max(AHEAD_PER_WORKER * self.workers, 1)
        while batch := list(itertools.islice(groups, CHUNK_ROWS)):
            window.append(self._submit(_groups_task, batch))
            if len(window) >= ahead:
                yield _done(window.popleft())
        while window:
            yield _done(window.popleft())

    def _line_chunks(self) -> Iterator[Chunk]:
        """Runs of lines parsed by the workers; from the first run that is not all whole-line
        records on, the rest of the file is read here (see the module docstring)."""
        assert self.job.header is not None
        window: deque[tuple[int, list[str], Any]] = deque()
        ahead = max(AHEAD_PER_WORKER * self.workers, 1)
        with self.path.open("r", encoding=self.encoding, newline="") as handle:
            for _ in range(self._header_lines):
                handle.readline()
            first = self._header_lines + 1
            exhausted = False
            while window or not exhausted:
                while not exhausted and len(window) < ahead:
                    lines = list(itertools.islice(iter(handle.readline, ""), CHUNK_ROWS))
                    if not lines:
                        exhausted = True
                        break
                    window.append((first, lines, self._submit(_lines_task, first, lines)))
                    first += len(lines)
                if not window:
                    return
                start, lines, pending = window.popleft()
                chunk = _done(pending)
                if chunk is None:
                    logger.debug("line %d: a record spans lines; reading on in one process", start)
                    for _, more, _ in window:
                        lines.extend(more)
                    rest = lines_of(LineSource(lines, handle))
                    rows = csv_records(rest, self.job.header, start)
                    yield from self._group_chunks([row] for row in rows)
                    return
                yield chunk


def _done(item: Any) -> Any:
    return item.get() if isinstance(item, AsyncResult) else item
