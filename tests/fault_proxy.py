"""A TCP proxy on loopback that can cut connections: a store (or broker) outage on demand.

`FaultProxy(upstream_port)` forwards every connection to 127.0.0.1:upstream_port. With
`proxy.resetting = True` it instead reads what the client sends, then resets the connection
(SO_LINGER 0: a TCP RST, as a crashing server or a load balancer dropping the connection does):
botocore sees ConnectionClosedError. Tests use it to show faults are retried, not fatal.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading


class FaultProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.resetting = False
        self.resets = 0
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self.port = int(self._listener.getsockname()[1])
        self._closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._closed = True
        with contextlib.suppress(OSError):
            self._listener.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        if self.resetting:
            self._reset(client)
            return
        try:
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=30)
        except OSError:
            self._reset(client)
            return
        done = threading.Event()
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pipe, args=(src, dst, done), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket, done: threading.Event) -> None:
        try:
            while not done.is_set():
                if self.resetting:  # a connection kept alive from before the outage dies too
                    break
                src.settimeout(0.2)
                try:
                    data = src.recv(65536)
                except TimeoutError:
                    continue
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            done.set()
            for sock in (src, dst):
                self._reset(sock) if self.resetting else sock.close()

    def _reset(self, sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.settimeout(0.5)
            with contextlib.suppress(OSError):
                sock.recv(65536)  # let the request arrive: the reset then cuts it mid-exchange
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.resets += 1
        with contextlib.suppress(OSError):
            sock.close()
