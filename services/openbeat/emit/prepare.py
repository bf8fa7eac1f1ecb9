"""Making the sample's events ready to send, in worker processes while the main one sends.

Generating a sample record and Avro-encoding it costs about twice what kafka-python spends
sending it, so one process doing all three reaches a third of the raw producer's rate. Here
`SamplePipeline` forks worker processes that each turn a chunk index into encoded events
(kind, key, value); the main process only calls `producer.send`.

Output is the same as making the chunks one after another in one process: every chunk depends
on (seed, chunk index) alone (see `SampleSource`), and chunks are handed over in chunk order, so
the order of events in Kafka (and so per key) is deterministic per seed. At most `ahead` chunks
are in flight or waiting, which bounds memory when the broker is slower than the workers.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
from collections import deque
from collections.abc import Iterator
from datetime import datetime
from multiprocessing.pool import AsyncResult, Pool
from types import TracebackType
from typing import Any

from openbeat.contracts.codec import KIND_SCHEMAS, SchemaStore
from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.emit.producer import ID_FIELDS, Prepared, key_hash
from openbeat.emit.sample import SampleSource, chunk_sizes

logger = logging.getLogger(__name__)

# Below two chunks the fork and pipe cost more than they save: make them in this process.
MIN_PARALLEL_EVENTS = 2000
# Chunks requested ahead of the sender: enough to keep every worker busy while one finished
# chunk waits, few enough that a slow broker holds at most a few MB of encoded events.
AHEAD_PER_WORKER = 3

# The sender should not wait on a worker for the CPU, yet workers must still get CPU when other
# programs share the machine. At nice 5 a worker weighs a third of a normal process (CFS weights
# 335 vs 1024), so three workers together weigh about what the sender does; 19 starved them
# under outside load and 0 slowed the sender (measured on 2 cores).
WORKER_NICENESS = 5

# The worker's state, set in the parent just before forking so that the children inherit it
# without pickling (the fork start method copies the parent's memory).
_WORK: tuple[SampleSource, SchemaStore] | None = None


def encode_events(schemas: SchemaStore, events: list[tuple[str, dict[str, Any]]]) -> list[Prepared]:
    """(kind, record) pairs as (kind, key, single-object value, key hash): what the sender
    needs, so that sending is all the sending process does."""
    encode = schemas.encode
    out: list[Prepared] = []
    for kind, record in events:
        key = f"{record['agency_id']}:{record[ID_FIELDS[kind]]}".encode()
        out.append((kind, key, encode(KIND_SCHEMAS[kind], record), key_hash(key)))
    return out


def _sample_task(index: int, size: int) -> list[Prepared]:
    assert _WORK is not None, "worker started without its sample source"
    source, schemas = _WORK
    return encode_events(schemas, source.chunk(index, size))


def _lower_priority() -> None:
    """Workers yield the CPU to the sending process: with more runnable processes than cores,
    a sender slowed by a worker holds everyone up, while a worker that falls behind only lets
    the sender drain the chunks already made."""
    with contextlib.suppress(OSError):  # not permitted here: run at normal priority
        os.nice(WORKER_NICENESS)


def fork_pool(workers: int) -> Pool:
    """Forked workers at lower priority. Kept for the pipeline's life: a pool replaces a dead
    worker by forking again."""
    return multiprocessing.get_context("fork").Pool(workers, initializer=_lower_priority)


def close_pool(pool: Pool | None) -> None:
    """Stop the workers at once: what they hold is remade on the next run, never half-sent."""
    if pool is not None:
        pool.terminate()
        pool.join()


def default_workers() -> int:
    """One worker per CPU plus one: the workers run at lower priority and fill whatever CPU the
    sender leaves (measured on 2 cores: 1 worker leaves the sender waiting half the time, 3
    beat 2 by a few percent)."""
    return (os.cpu_count() or 1) + 1


class SamplePipeline:
    """Encoded sample chunks, in order, made by worker processes.

    Use as a context manager and enter it before creating the Kafka producer, so that the
    workers are forked before the producer starts its I/O thread (forking a process with
    running threads can copy a held lock).
    """

    def __init__(
        self,
        n: int,
        seed: int,
        jurisdiction: Jurisdiction,
        now: datetime,
        schemas: SchemaStore,
        workers: int | None = None,
    ) -> None:
        self.sizes = chunk_sizes(n)
        self.source = SampleSource(seed, jurisdiction, now)
        self.schemas = schemas
        self.workers = default_workers() if workers is None else workers
        if n < MIN_PARALLEL_EVENTS:
            self.workers = 0
        self._pool: Pool | None = None

    def __enter__(self) -> SamplePipeline:
        global _WORK
        if self.workers > 0:
            _WORK = (self.source, self.schemas)
            self._pool = fork_pool(self.workers)
            logger.debug("sample pipeline: %d worker processes", self.workers)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        global _WORK
        close_pool(self._pool)
        self._pool = None
        _WORK = None

    def __iter__(self) -> Iterator[list[Prepared]]:
        if self._pool is None:
            for index, size in enumerate(self.sizes):
                yield encode_events(self.schemas, self.source.chunk(index, size))
            return
        pool = self._pool
        window: deque[AsyncResult[list[Prepared]]] = deque()
        ahead = AHEAD_PER_WORKER * self.workers
        for index, size in enumerate(self.sizes):
            window.append(pool.apply_async(_sample_task, (index, size)))
            if len(window) >= ahead:
                yield window.popleft().get()
        while window:
            yield window.popleft().get()
