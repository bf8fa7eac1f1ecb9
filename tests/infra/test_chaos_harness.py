"""The chaos run's own parts (bench/chaos*.py), which `make chaos` trusts to tell the truth:
the fault proxy really cuts connections and really comes back, the schedule holds the faults
the issue asks for, and the verdict counts losses and duplicates from every stage."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
from bench.chaos_compare import compare_feeds, diff, verdict
from bench.chaos_faults import FaultSchedule
from bench.chaos_infra import FaultProxy


@pytest.fixture
def echo_port() -> Iterator[int]:
    """A loopback server that sends back whatever it gets (the proxy's upstream)."""
    server = socket.create_server(("127.0.0.1", 0))
    port = int(server.getsockname()[1])

    def serve(conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):  # the proxy resets upstream sides too
            while data := conn.recv(4096):
                conn.sendall(data)

    def accept() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    yield port
    server.close()


def _roundtrip(port: int, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(payload)
        return sock.recv(4096)


def _is_cut(sock: socket.socket) -> bool:
    """True when the connection is dead: reset, or closed before any answer."""
    try:
        sock.sendall(b"ping")
        return sock.recv(4096) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True


def _new_connection_is_cut(port: int) -> bool:
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    except ConnectionResetError:  # the reset can arrive while connect() returns
        return True
    with sock:
        return _is_cut(sock)


def test_proxy_outage_resets_open_and_new_connections_then_passes_again(echo_port: int) -> None:
    proxy = FaultProxy(echo_port)
    try:
        assert _roundtrip(proxy.port, b"before") == b"before"
        held = socket.create_connection(("127.0.0.1", proxy.port), timeout=5)
        held.sendall(b"x")
        assert held.recv(16) == b"x"

        proxy.down()
        assert _is_cut(held)
        assert _new_connection_is_cut(proxy.port)
        assert proxy.refused >= 2

        proxy.up()
        assert _roundtrip(proxy.port, b"after") == b"after"
    finally:
        proxy.close()


def test_the_schedule_holds_every_kill_one_broker_fault_and_one_outage() -> None:
    schedule = FaultSchedule(
        None,  # type: ignore[arg-type]  # plan() touches no process
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        kills=20,
        broker_kills=1,
        broker_down_s=5,
        outage_s=60,
        kill_gap_s=1,
        recovery_timeout_s=60,
        seed=1,
    )
    steps = schedule.plan()
    kills = Counter(s.split(":", 1)[1] for s in steps if s.startswith("kill:"))
    assert kills == {"anonymizer": 20, "aggregator": 20, "publisher": 20, "alerter": 20}
    assert steps.count("broker") == 1 and steps.count("store") == 1
    # Faults between kills, not at the ends: every service is killed before and after each.
    assert 0 < steps.index("broker") < steps.index("store") < len(steps) - 4


def _stages(lost: int = 0, duplicated: int = 0, feeds_equal: bool = True) -> dict:
    clean = Counter({"a": 1, "b": 1, "c": 1})
    chaos = Counter({"a": 1 + duplicated, "b": 1, "c": 1 - lost})
    feeds = compare_feeds({"feeds/alerts.rss": b"x"}, {"feeds/alerts.rss": b"x"})
    if not feeds_equal:
        feeds = compare_feeds({"feeds/alerts.rss": b"x"}, {"feeds/alerts.rss": b"y"})
    return {
        "topics": {"public.incidents": diff(Counter(clean), Counter(clean))},
        "staging": {"incidents": diff(chaos, clean)},
        "releases": {"incidents": {"equal": True, "rows": diff(Counter(clean), clean)}},
        "feeds": feeds,
    }


def test_the_verdict_counts_losses_and_duplicates_and_demands_equal_feeds() -> None:
    assert verdict(_stages()) == {"records_lost": 0, "records_duplicated": 0, "equal": True}
    assert verdict(_stages(lost=1)) == {"records_lost": 1, "records_duplicated": 0, "equal": False}
    assert verdict(_stages(duplicated=2))["records_duplicated"] == 2
    assert verdict(_stages(feeds_equal=False))["equal"] is False
