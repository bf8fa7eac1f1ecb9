"""Pure per-message work in forked worker processes, results handed back in input order.

A streaming service's CPU-heavy but stateless step (decode, validate, transform, encode) can run
beside the main process, which keeps everything stateful and ordered (state checks, sends,
offsets, transactions). `ForkedWorkers.map` takes the chunks of one batch and yields their
results in order as each is ready, so the caller sends the first chunk's output while the
workers still prepare the rest. Nothing is carried from one `map` to the next: an aborted
transaction leaves no work behind that could leak into the next one.

The workers are forked (they inherit the service's loaded schemas, keys and tables without
pickling them) and must be started before the Kafka clients start their I/O threads, since
forking a process with running threads can copy a lock held by one of them. They exit when the
service closes them, and also on their own when the service dies without closing them (SIGKILL):
each worker watches its parent process id.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, Generic, TypeVar

logger = logging.getLogger(__name__)

S = TypeVar("S")
A = TypeVar("A")
R = TypeVar("R")

# How often a worker checks that its parent is still alive. An orphan outliving a SIGKILLed
# service by up to this long costs nothing (it is idle); checking costs one syscall.
PARENT_CHECK_S = 0.5

# The main process sends and keeps order; when it waits for the CPU, everything waits. At nice 5
# a worker weighs a third of a normal process (CFS weights 335 vs 1024), so the main process
# runs whenever it can and the workers still get the CPU it leaves (as for the emitter's
# workers, emit/prepare.py).
WORKER_NICENESS = 5

# The state every worker task gets, set in the parent just before forking so that the children
# inherit it without pickling (the fork start method copies the parent's memory).
_STATE: Any = None


def default_workers() -> int:
    """One worker per CPU: the main process mostly waits on the GIL-bound Kafka client, and the
    workers fill whatever CPU it leaves."""
    return os.cpu_count() or 1


def _watch_parent(parent: int) -> None:
    while True:
        time.sleep(PARENT_CHECK_S)
        if os.getppid() != parent:
            # Our service is gone (killed without closing us): nobody will read our results.
            os._exit(0)


def _init_worker(parent: int) -> None:
    # The parent's SIGTERM handler (a stop flag) was inherited by the fork: a worker must die
    # on SIGTERM, and leave Ctrl-C in a terminal to the parent (which then closes it).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):  # not permitted here: run at normal priority
        os.nice(WORKER_NICENESS)
    threading.Thread(target=_watch_parent, args=(parent,), daemon=True).start()


def _run(fn: Callable[[Any, Any], Any], arg: Any) -> Any:
    return fn(_STATE, arg)


def _ping(_: Any) -> int:
    return os.getpid()


class ForkedWorkers(Generic[S, A, R]):
    """A fixed set of forked workers applying `fn(state, arg)` to chunks, results in order.

    `fn` must be a module-level function (it is sent to the workers by name); `state` is
    inherited by fork. A worker that dies breaks the pool: `map` then raises rather than wait
    forever, and the service stops with its transaction uncommitted (consumed again later).
    """

    def __init__(self, workers: int, state: S, fn: Callable[[S, A], R]) -> None:
        if workers < 1:
            raise ValueError("ForkedWorkers needs at least one worker")
        self.workers = workers
        self.state = state
        self.fn = fn
        self._executor: ProcessPoolExecutor | None = None
        self.pids: list[int] = []

    @property
    def started(self) -> bool:
        return self._executor is not None

    def start(self) -> None:
        """Fork the workers now (before any client thread exists)."""
        global _STATE
        if self._executor is not None:
            return
        _STATE = self.state
        self._executor = ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )
        # The first submit forks every worker at once (fork-context executors never spawn
        # later); waiting for it means no fork happens after this returns.
        self._executor.submit(_ping, None).result()
        self.pids = sorted(p.pid for p in (self._executor._processes or {}).values() if p.pid)
        logger.info("started %d worker processes", self.workers)

    def map(self, args: Sequence[A]) -> Iterator[R]:
        """`fn(state, arg)` for each arg, in order, each yielded as soon as it and all before it
        are done. Abandoning the iterator cancels what has not started."""
        if self._executor is None:
            raise RuntimeError("ForkedWorkers.map before start()")
        return self._executor.map(_run, [self.fn] * len(args), args)

    def close(self) -> None:
        global _STATE
        if self._executor is None:
            return
        executor, self._executor = self._executor, None
        executor.shutdown(wait=True, cancel_futures=True)
        _STATE = None
        logger.info("stopped worker processes")
