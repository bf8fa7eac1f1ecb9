"""`run --until-idle` shows a progress line on a terminal and nothing in logs or pipes.

The line is the service's consumer group's committed offsets against its inputs, read from the
real broker: so a group that committed all of a topic shows "N of N input records (100%)".
"""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
import time
from pathlib import Path

from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata

from openbeat.runtime.progress import GroupProgress, describe

ROOT = Path(__file__).resolve().parents[2]


def test_the_line_names_the_service_the_counts_the_share_and_the_rate() -> None:
    assert describe("anonymizer", 120_000, 299_151, 7512.4) == (
        "anonymizer: 120,000 of 299,151 input records (40%), 7,512/s"
    )
    assert describe("publisher", 0, 0, 0.0) == "publisher: 0 of 0 input records"


def test_progress_follows_the_group_s_committed_offsets(kafka_bootstrap, make_topic) -> None:
    topic = make_topic("progress", partitions=2)
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap)
    for i in range(40):
        producer.send(topic, value=b"x", key=str(i).encode())
    producer.flush()
    producer.close()
    group = f"{topic}-group"
    consumer = KafkaConsumer(
        bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False
    )
    ends = consumer.end_offsets([TopicPartition(topic, p) for p in (0, 1)])
    consumer.commit({tp: OffsetAndMetadata(end, "", -1) for tp, end in ends.items()})
    consumer.close()
    out = io.StringIO()
    with GroupProgress("svc", kafka_bootstrap, group, [topic], out):
        deadline = time.monotonic() + 30
        while "svc: 40 of 40 input records (100%)" not in out.getvalue():
            assert time.monotonic() < deadline, out.getvalue()
            time.sleep(0.2)
    assert out.getvalue().endswith("\r")  # the line is wiped when the service ends


def _run(env: dict[str, str], tty: bool) -> str:
    """stderr of `openbeat run anonymizer --until-idle`, on a pseudo-terminal or a pipe."""
    command = [sys.executable, "-m", "openbeat.cli", "run", "anonymizer", "--until-idle"]
    if not tty:
        done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stderr
    leader, follower = pty.openpty()
    proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(leader)
    assert proc.wait() == 0
    return b"".join(chunks).decode(errors="replace")


def test_run_until_idle_shows_progress_on_a_terminal_only(openbeat_env) -> None:
    env = {**openbeat_env, "OPENBEAT_LOG_LEVEL": "WARNING"}
    emitted = subprocess.run(
        [sys.executable, "-m", "openbeat.cli", "emit", "--sample", "3000", "--no-progress"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert emitted.returncode == 0, emitted.stderr
    on_terminal = _run(env, tty=True)
    assert "anonymizer: " in on_terminal and " input records" in on_terminal
    # A second run over the consumed topics: still quiet when piped (as in a log).
    assert "input records" not in _run(env, tty=False)
