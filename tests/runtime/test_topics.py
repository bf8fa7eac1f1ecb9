"""The declarative topic list and `topics apply`: create what is missing, report drift."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from openbeat.paths import TOPICS_FILE
from openbeat.runtime.admin import apply_topics, describe_existing
from openbeat.runtime.topics import (
    ExistingTopic,
    TopicNames,
    TopicsFileError,
    TopicSpec,
    load_topics,
    plan_topics,
)


def test_shipped_file_declares_every_topic_of_the_spec() -> None:
    names = {spec.name for spec in load_topics(TOPICS_FILE)}
    default = TopicNames()
    expected = {default.raw(k) for k in ("incident", "report", "engagement")}
    expected |= {default.public(k) for k in ("incident", "report", "engagement")}
    expected |= {default.deadletter, default.withheld_incidents, default.survey_responses}
    assert expected <= names


def test_namespace_renames_every_topic() -> None:
    specs = load_topics(TOPICS_FILE, TopicNames("city2"))
    assert all(spec.name.startswith("city2.") for spec in specs)


def test_plan_creates_missing_and_reports_drift() -> None:
    declared = [
        TopicSpec(name="a", partitions=3, replication_factor=1, config={"retention.ms": "-1"}),
        TopicSpec(name="b", partitions=3, replication_factor=1),
        TopicSpec(
            name="c", partitions=1, replication_factor=1, config={"cleanup.policy": "compact"}
        ),
    ]
    existing = {
        "b": ExistingTopic("b", 2, {}),
        "c": ExistingTopic("c", 1, {"cleanup.policy": "compact"}),
    }
    plan = plan_topics(declared, existing)
    assert [s.name for s in plan.create] == ["a"]
    assert plan.unchanged == ["c"]
    assert plan.drift == ["b: 2 partitions, declared 3"]


def test_bad_topics_file_names_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "topics.toml"
    bad.write_text('[topics."x"]\npartitions = 0\n')
    with pytest.raises(TopicsFileError, match=r"topics\.x\.partitions"):
        load_topics(bad)


@pytest.mark.integration
def test_apply_twice_creates_once_then_changes_nothing(
    kafka_bootstrap: str, unique_name: Callable[[str], str]
) -> None:
    names = TopicNames(unique_name("apply"))
    specs = load_topics(TOPICS_FILE, names)

    first = apply_topics(kafka_bootstrap, specs)
    second = apply_topics(kafka_bootstrap, specs)

    assert {s.name for s in first.create} == {s.name for s in specs}
    assert second.create == [] and second.drift == []
    assert sorted(second.unchanged) == sorted(s.name for s in specs)


@pytest.mark.integration
def test_apply_reports_config_drift_without_changing_it(
    kafka_bootstrap: str, unique_name: Callable[[str], str]
) -> None:
    from kafka.admin import KafkaAdminClient

    names = TopicNames(unique_name("drift"))
    specs = load_topics(TOPICS_FILE, names)
    apply_topics(kafka_bootstrap, specs)
    changed = [
        s.model_copy(update={"config": {**s.config, "retention.ms": "1000"}})
        if s.name == names.deadletter
        else s
        for s in specs
    ]

    plan = apply_topics(kafka_bootstrap, changed)

    assert len(plan.drift) == 1 and names.deadletter in plan.drift[0]
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        live = describe_existing(admin, specs)[names.deadletter]
    finally:
        admin.close()
    assert live.config["retention.ms"] == "2592000000"
