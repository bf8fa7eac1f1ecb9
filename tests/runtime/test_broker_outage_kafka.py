"""A broker killed under load and started again: `openbeat run` keeps going and loses nothing.

The test broker itself is SIGKILLed (its data kept) while the anonymizer works through a
backlog and the publisher stages it, and stays down longer than the clients' request timeout,
so the services meet the fault rather than riding it out inside kafka-python. Each must log one
line naming itself and the cause, never exit, and consume everything once the broker is back.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition

from cli_helpers import REPO_ROOT, run_cli
from kafka_helpers import KAFKA_SCRIPT, TEST_KAFKA_HOME, TEST_KAFKA_PORT, consume_all

pytestmark = pytest.mark.integration

OUTAGE_S = 45  # past the 30 s request timeout of kafka-python's clients


def _broker(action: str) -> None:
    env = {
        **os.environ,
        "OPENBEAT_KAFKA_HOME": str(TEST_KAFKA_HOME),
        "OPENBEAT_KAFKA_PORT": TEST_KAFKA_PORT,
    }
    subprocess.run([str(KAFKA_SCRIPT), action], env=env, check=True)


def _kill_broker() -> None:
    pid = int((TEST_KAFKA_HOME / "kafka.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)


def _caught_up(bootstrap: str, group: str, topics: list[str]) -> bool:
    """The group's committed offsets are past the last record of every input partition.

    Not the end offsets: a transactional topic ends with a commit marker, which no consumer
    commits past."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        last: dict[TopicPartition, int] = {}
        for topic in topics:
            for m in consume_all(bootstrap, topic, timeout_s=30):
                tp = TopicPartition(m.topic, m.partition)
                last[tp] = max(last.get(tp, -1), m.offset)
        return all((consumer.committed(tp) or 0) > offset for tp, offset in last.items())
    finally:
        consumer.close()


@pytest.mark.timeout(900)
def test_services_ride_out_a_killed_broker(
    openbeat_env: dict[str, str], topic_names: Any, kafka_bootstrap: str
) -> None:
    if os.environ.get("OPENBEAT_TEST_KAFKA_BOOTSTRAP"):
        pytest.skip("needs the broker this test session started (it kills and restarts it)")
    names: Any = topic_names
    env = {
        **openbeat_env,
        "OPENBEAT_ANONYMIZER_WORKERS": "0",
        "OPENBEAT_RELEASE_INTERVAL_S": "0",
        "OPENBEAT_COMMIT_INTERVAL_S": "0.5",
        "OPENBEAT_MAX_BATCH": "200",
        "OPENBEAT_RETRY_MAX_S": "2",
    }
    run_cli(env, "emit", "--sample", "3000", "--seed", "11", "--no-progress")
    proc = subprocess.Popen(
        [sys.executable, "-m", "openbeat.cli", "run", "anonymizer", "publisher"],
        env=env,
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []

    def read() -> None:
        for line in proc.stderr:  # type: ignore[union-attr]
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    public = [names.public(k) for k in ("incident", "report", "engagement")]
    killed = False
    try:
        deadline = time.monotonic() + 240
        while not any("transaction" in x or "staged" in x for x in lines):
            assert proc.poll() is None, "".join(lines)[-3000:]
            assert time.monotonic() < deadline, "the services never started working"
            time.sleep(0.1)
        _kill_broker()
        killed = True
        time.sleep(OUTAGE_S)
        assert proc.poll() is None, (
            "openbeat run exited during the outage:\n" + "".join(lines)[-3000:]
        )
        _broker("start")
        killed = False
        run_cli(env, "emit", "--sample", "300", "--seed", "12", "--no-progress")
        raw = [names.raw(k) for k in ("incident", "report", "engagement")]
        deadline = time.monotonic() + 480
        while not (
            _caught_up(kafka_bootstrap, f"{names.namespace}-anonymizer", raw)
            and _caught_up(kafka_bootstrap, f"{names.namespace}-publisher", public)
        ):
            assert proc.poll() is None, "".join(lines)[-3000:]
            assert time.monotonic() < deadline, "never caught up after the outage:\n" + "".join(
                lines[-40:]
            )
            time.sleep(5)
        proc.send_signal(signal.SIGTERM)
        out = proc.stdout.read()  # type: ignore[union-attr]
        proc.wait(timeout=90)
    finally:
        if killed:
            _broker("start")
        if proc.poll() is None:
            proc.kill()
    reader.join(5)
    err = "".join(lines)
    assert proc.returncode == 0, err[-3000:]
    faults = [x for x in err.splitlines() if "is unavailable or not answering" in x]
    assert faults, "no service said what was wrong:\n" + err[-3000:]
    assert all("service anonymizer:" in x or "service publisher:" in x for x in faults)
    # Each service says so itself, also one whose input was drained when the broker died
    # (BrokerWatch) and one whose commit hangs on it (BrokerWaits): silence would report a
    # dead pipeline healthy.
    for service in ("anonymizer", "publisher"):
        assert any(f"service {service}:" in x for x in faults), "\n".join(faults)
    assert f"Kafka at {kafka_bootstrap}" in faults[0]
    # Nothing duplicated on the public topics (read_committed), nothing left unconsumed.
    values = [m.value for t in public for m in consume_all(kafka_bootstrap, t)]
    assert values and len(values) == len(set(values))
    assert "anonymizer: consumed" in out and "publisher: consumed" in out
