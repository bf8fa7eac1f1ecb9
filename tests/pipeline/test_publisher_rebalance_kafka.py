"""Two publisher copies with rebalances release exactly what one copy releases (issue 10.2).

Copy A runs throughout and flushes rarely, so it always holds buffered, uncommitted records when
copy B joins and takes some of its partitions. B stages what it owns in several parts, then stops;
A gets the partitions back. Before the fix A kept the lost partitions' buffers and staged them
with its new records as one part spanning B's, and `read_staged` then skipped B's later parts:
records missing from every release. Now A drops them and the new owner reads them again.

The reference is one copy reading the same topics from the start (the group's offsets deleted)
into a private store of its own; both stores get a release with the same cutoff, and every data
file must be byte-identical.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from kafka.admin import KafkaAdminClient

from cli_helpers import run_cli
from openbeat.releases import read_staged
from openbeat.store import open_store
from service_copies import Copy, group_caught_up, read_topic, until

# Several copies and rebalances: minutes on a loaded machine.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

KINDS = (("incident", "incidents"), ("report", "reports"), ("engagement", "engagements"))


def _release_files(store: Path) -> dict[str, bytes]:
    """Every data file of every release (data/*.parquet, data.csv, changes.json), by path."""
    files = {}
    for path in sorted((store / "datasets").glob("*/releases/*/*")):
        if path.is_dir():
            for part in sorted(path.glob("*")):
                files[str(part.relative_to(store))] = part.read_bytes()
        elif path.name in ("data.csv", "changes.json"):
            files[str(path.relative_to(store))] = path.read_bytes()
    return files


def _delete_group(bootstrap: str, group: str) -> None:
    """Forget the group's offsets; retried while stopped static members still linger in it."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="rebalance-test")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                outcome: Any = admin.delete_groups([group]).get(group)
            except Exception as exc:  # a group with members left is refused: retry
                outcome = exc
            if str(outcome) == "OK":
                return
            assert time.monotonic() < deadline, f"could not delete group {group}: {outcome}"
            time.sleep(1)
    finally:
        admin.close()


def _assignments(log: str) -> list[set[str]]:
    """Each assignment a copy logged, in order (the eager protocol assigns the whole set)."""
    return [
        set(line.split("partitions assigned: ", 1)[1].strip().split(", "))
        for line in log.splitlines()
        if "partitions assigned: " in line
    ]


def _holds_all(a: Copy, b: Copy) -> bool:
    """True when A's latest assignment is every partition either copy was ever given."""
    a_sets, b_sets = _assignments(a.log()), _assignments(b.log())
    every = set().union(*a_sets, *b_sets)
    return bool(a_sets) and a_sets[-1] == every


def _until_logged(condition: Any, what: str, *copies: Copy) -> None:
    """`until` with the copies' assignment history in the failure message."""
    try:
        until(condition, 90, what)
    except AssertionError as exc:
        history = "\n".join(
            f"{c.instance}: {line}"
            for c in copies
            for line in c.log().splitlines()
            if "partitions " in line or "member" in line
        )
        raise AssertionError(f"{exc}\n{history[-4000:]}") from None


def test_two_publisher_copies_with_rebalances_release_what_one_copy_releases(
    openbeat_env: dict[str, str],
    topic_names: Any,
    kafka_bootstrap: str,
    tmp_path: Path,
) -> None:
    def read(topic: str) -> list:
        return read_topic(kafka_bootstrap, topic)

    env = {**openbeat_env, "OPENBEAT_RELEASE_INTERVAL_S": "0", "OPENBEAT_MAX_BATCH": "100"}
    seeds: Iterator[int] = count(11)

    def emit() -> None:
        run_cli(env, "emit", "--sample", "300", "--seed", str(next(seeds)), "--no-progress")

    logs = tmp_path / "logs"
    anonymizer = Copy(env, "anonymizer", "0", logs)
    # A flushes rarely: whatever it consumed is still buffered when B joins.
    a = Copy({**env, "OPENBEAT_COMMIT_INTERVAL_S": "30"}, "publisher", "a", logs)
    try:
        until(lambda: bool(_assignments(a.log())), 90, "A assigned")
        for round_ in range(2):
            emit()
            time.sleep(1.5)  # anonymized and consumed by A, not staged
            # Each round's B is a new static member: one with the last round's id would replace
            # a membership still in its session without a rebalance.
            b = Copy({**env, "OPENBEAT_COMMIT_INTERVAL_S": "0.5"}, "publisher", f"b{round_}", logs)
            _until_logged(lambda b=b: bool(_assignments(b.log())), "B joined", a, b)  # type: ignore[misc]
            _until_logged(lambda b=b: not _holds_all(a, b), "A gave B partitions", a, b)  # type: ignore[misc]
            emit()  # B stages a second part of what it owns
            time.sleep(1.5)
            assert b.stop() == 0, b.log()[-2000:]
            emit()
            # B was a static member: A gets everything back once B's session has ended.
            _until_logged(lambda b=b: _holds_all(a, b), "A got B's partitions back", a, b)  # type: ignore[misc]
        raw = [m for kind, _ in KINDS for m in read(topic_names.raw(kind))]
        group = f"{topic_names.namespace}-anonymizer"
        until(lambda: group_caught_up(kafka_bootstrap, group, raw), 120, "anonymizer done")
        public = [m for kind, _ in KINDS for m in read(topic_names.public(kind))]
        group = f"{topic_names.namespace}-publisher"
        until(lambda: group_caught_up(kafka_bootstrap, group, public), 120, "publisher done")
    finally:
        anonymizer.stop()
        a.stop()
    # The scenario happened: A lost partitions with records buffered.
    assert "unstaged records" in a.log(), a.log()[-3000:]

    private = open_store(env["OPENBEAT_PRIVATE_STORE"])
    for kind, source in KINDS:
        staged = sorted((s.topic, s.partition, s.offset) for s in read_staged(private, source))
        on_topic = sorted((m.topic, m.partition, m.offset) for m in read(topic_names.public(kind)))
        assert staged == on_topic, kind

    # One copy, the same input from the start, stores of its own.
    _delete_group(kafka_bootstrap, f"{topic_names.namespace}-publisher")
    one = {
        **env,
        "OPENBEAT_STORE": str(tmp_path / "one-store"),
        "OPENBEAT_PRIVATE_STORE": str(tmp_path / "one-private"),
    }
    run_cli(one, "run", "publisher", "--until-idle")
    cutoff = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    run_cli(env, "release", "--cutoff", cutoff)
    run_cli(one, "release", "--cutoff", cutoff)

    two_copies = _release_files(Path(env["OPENBEAT_STORE"]))
    one_copy = _release_files(Path(one["OPENBEAT_STORE"]))
    assert any("datasets/incidents/" in k for k in one_copy)
    assert two_copies.keys() == one_copy.keys()
    for key, data in one_copy.items():
        assert two_copies[key] == data, key
