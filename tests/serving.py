"""Serving a public root over HTTP for the tests: Debian's nginx with the shipped configuration
(infra/nginx/openbeat-locations.conf), `openbeat serve`, and a plain GET that keeps the status.

nginx runs its workers as `nobody` (the master as root), as in a real deployment, so what it
serves must sit where another user can read it: `world_readable_dir()` makes such a folder.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
LOCATIONS = REPO / "infra" / "nginx" / "openbeat-locations.conf"


def world_readable_dir(prefix: str) -> Path:
    """A new folder under /tmp (pytest's tmp folders are 0700, closed to nginx's workers)."""
    work = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    work.chmod(0o755)
    return work


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of a GET; an HTTP error is an answer, not an exception (the
    timeout is generous: a loaded test machine answers slowly)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def raw_get(port: int, path: str) -> tuple[int, bytes]:
    """A GET of `path` exactly as written (urllib would normalise `..` and `%2e`)."""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as conn:
        conn.sendall(f"GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n".encode("latin-1"))
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def _wait_for(port: int, process: subprocess.Popen[bytes], what: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                err = process.stderr.read().decode() if process.stderr else ""
                pytest.fail(f"{what} did not start: {err}")
            time.sleep(0.1)


def nginx_binary() -> str:
    found = subprocess.run(
        [str(REPO / "infra" / "nginx" / "ensure-nginx.sh")], capture_output=True, text=True
    )
    if found.returncode != 0:
        pytest.fail(f"no nginx and it could not be installed: {found.stderr.strip()}")
    path = found.stdout.strip()
    return path if os.path.isabs(path) else str(REPO / path)


@contextmanager
def nginx_serving(root: Path, work: Path) -> Iterator[str]:
    """nginx with the shipped locations over `root`; yields its base URL. `work` (readable by
    nginx's user) holds its configuration, pid and temp folders."""
    port = free_port()
    conf = work / "nginx.conf"
    user = "user nobody nogroup;" if os.geteuid() == 0 else ""
    temps = " ".join(
        f"{name}_temp_path {work}/{name};" for name in ("client_body", "proxy", "fastcgi")
    )
    conf.write_text(
        f"""{user}
worker_processes 1;
daemon off;
pid {work}/nginx.pid;
error_log {work}/error.log;
events {{ worker_connections 64; }}
http {{
    access_log off;
    {temps} uwsgi_temp_path {work}/uwsgi; scgi_temp_path {work}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        include {LOCATIONS};
    }}
}}
"""
    )
    nginx = subprocess.Popen(
        [nginx_binary(), "-p", str(work), "-c", str(conf), "-e", str(work / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        _wait_for(port, nginx, "nginx")
        yield f"http://127.0.0.1:{port}"
    finally:
        nginx.terminate()
        nginx.wait(timeout=20)


@contextmanager
def command_serving(args: list[str], env: dict[str, str] | None = None) -> Iterator[str]:
    """A server command (`openbeat serve ROOT --port {port}`, `python -m http.server {port}`)
    run as its own process, `{port}` replaced by a free port; yields its base URL."""
    port = free_port()
    # Its log goes to a file: a pipe nobody reads fills up and blocks the server mid-request.
    log = tempfile.TemporaryFile()  # noqa: SIM115 (closed in the finally below)
    process = subprocess.Popen(
        [arg.replace("{port}", str(port)) for arg in args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        _wait_for(port, process, " ".join(args[:3]))
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


def openbeat_command() -> list[str]:
    """The `openbeat` console script of this virtualenv."""
    return [str(Path(sys.executable).with_name("openbeat"))]
