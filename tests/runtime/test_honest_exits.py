"""`openbeat run --until-idle` never reports success for a run that consumed nothing."""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
from kafka import TopicPartition

from cli_helpers import run_cli
from openbeat.runtime.idle import NoPartitionsAssigned, idle


class _Unassigned:
    """A consumer that never gets a partition (the group gave them all to another copy)."""

    def __init__(self, existing: set[str]) -> None:
        self.existing = existing

    def assignment(self) -> set[TopicPartition]:
        return set()

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        return {0, 1, 2} if topic in self.existing else None


def test_no_assignment_within_the_timeout_raises_naming_group_and_fix() -> None:
    consumer: Any = _Unassigned({"ns.raw.incidents"})
    started = time.monotonic() - 10

    assert idle(consumer, ["ns.raw.incidents"], started, 60.0, "ns-anonymizer") is False
    with pytest.raises(NoPartitionsAssigned) as caught:
        idle(consumer, ["ns.raw.incidents"], started, 5.0, "ns-anonymizer")

    message = str(caught.value)
    assert "ns-anonymizer" in message and "nothing was consumed" in message
    assert "OPENBEAT_ASSIGNMENT_TIMEOUT_S" in message


def test_missing_topics_are_named_as_the_cause() -> None:
    consumer: Any = _Unassigned({"ns.raw.incidents"})

    with pytest.raises(NoPartitionsAssigned, match=r"ns\.raw\.reports do not exist.*topics apply"):
        idle(consumer, ["ns.raw.incidents", "ns.raw.reports"], time.monotonic() - 10, 5.0)


@pytest.mark.integration
def test_run_until_idle_without_topics_exits_non_zero_naming_the_service(
    kafka_bootstrap: str, unique_name: Any, tmp_path: Any
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENBEAT_")}
    env.update(
        {
            "OPENBEAT_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "OPENBEAT_TOPIC_NAMESPACE": unique_name("missing"),
            "OPENBEAT_STORE": str(tmp_path / "store"),
            "OPENBEAT_ALLOW_DEV_KEY": "1",
            "OPENBEAT_ASSIGNMENT_TIMEOUT_S": "3",
        }
    )

    result = run_cli(env, "run", "aggregator", "--until-idle", check=False)

    assert result.returncode == 2, result.stderr[-2000:]
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("openbeat: error: service aggregator stopped:"), last
    assert "do not exist" in last and "openbeat topics apply" in last
    assert "Traceback" not in result.stderr


def test_assignment_timeout_setting_is_validated() -> None:
    env = {**os.environ, "OPENBEAT_ASSIGNMENT_TIMEOUT_S": "soon"}
    result = run_cli(env, "run", "aggregator", "--until-idle", check=False)

    assert result.returncode == 2
    assert "OPENBEAT_ASSIGNMENT_TIMEOUT_S='soon': expected a number" in result.stderr
