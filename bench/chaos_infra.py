"""The chaos run's own infrastructure: a Kafka broker it may kill -9, a moto S3 server, and a
TCP proxy in front of moto that can refuse and reset every connection for a while.

Why a proxy for the store outage: moto in server mode keeps its objects in memory only, so
stopping and restarting it would be a store *loss*, not an outage. The proxy leaves moto (and
its data) running and makes the store unreachable for the services: open connections are reset
(RST) and new ones are accepted and reset at once, as a crashed load balancer or a flapping
network does. `FaultProxy` is plain sockets and threads, usable from tests too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
KAFKA_SCRIPT = REPO / "infra" / "kafka.sh"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _reset(sock: socket.socket) -> None:
    """Close with SO_LINGER 0: the peer gets a TCP RST (connection reset), not a clean FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class FaultProxy:
    """A TCP proxy 127.0.0.1:port -> upstream that can be switched into an outage.

    `down()` resets every open connection and, until `up()`, resets each new one right after
    accepting it; the upstream keeps running (and keeps its data) throughout.
    """

    def __init__(self, upstream_port: int, port: int | None = None) -> None:
        self.upstream_port = upstream_port
        self.port = port or free_port()
        self.refused = 0  # connections reset during outages (open ones and new ones)
        self._down = threading.Event()
        self._closed = threading.Event()
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", self.port), backlog=128)
        self._thread = threading.Thread(target=self._accept, name="fault-proxy", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def down(self) -> None:
        self._down.set()
        with self._lock:
            victims, self._open = list(self._open), set()
        for sock in victims:
            _reset(sock)
        self.refused += len(victims)
        logger.info("proxy :%d down (%d open connections reset)", self.port, len(victims))

    def up(self) -> None:
        self._down.clear()
        logger.info("proxy :%d up", self.port)

    def close(self) -> None:
        self._closed.set()
        self._listener.close()
        self.down()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._down.is_set():
                self.refused += 1
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
                upstream.settimeout(None)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self._open.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            with self._lock:
                tracked = src in self._open
                self._open.discard(src)
                self._open.discard(dst)
            if tracked:  # the first side to finish closes both, politely
                for sock in (src, dst):
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                    sock.close()


class MotoServer:
    """`python -m moto.server` as a child process (its own session), on a free port."""

    def __init__(self, log: Path) -> None:
        self.port = free_port()
        log.parent.mkdir(parents=True, exist_ok=True)
        self._log = log.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(self.url, timeout=2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"moto server exited; see {log}") from None
                time.sleep(0.3)
        raise RuntimeError(f"moto server did not answer on {self.url}; see {log}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


class Broker:
    """A single-node broker through infra/kafka.sh, with its own port and data folder."""

    def __init__(self, home: Path, port: int) -> None:
        self.home = home
        self.port = port
        self.env = {
            **os.environ,
            "OPENBEAT_KAFKA_HOME": str(home),
            "OPENBEAT_KAFKA_PORT": str(port),
            # A broker recovering from kill -9 on a loaded 2-core machine took over 90 s.
            "OPENBEAT_KAFKA_WAIT": os.environ.get("OPENBEAT_KAFKA_WAIT", "600"),
        }

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _script(self, command: str) -> None:
        subprocess.run([str(KAFKA_SCRIPT), command], env=self.env, check=True)

    def reset(self) -> None:
        self._script("reset")

    def start(self) -> None:
        """Start (again, on the same data) and return once the broker serves requests."""
        log = self.home / "kafka.log"
        if log.exists():  # kafka.sh waits for "Kafka Server started" in a fresh log
            log.rename(self.home / f"kafka.{int(time.time())}.log")
        self._script("start")

    def stop(self) -> None:
        self._script("stop")

    def kill9(self) -> None:
        """SIGKILL the broker process (no shutdown hook, no flush), and wait until it is gone."""
        pid = int((self.home / "kafka.pid").read_text().strip())
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        raise RuntimeError(f"broker pid {pid} survived SIGKILL")
