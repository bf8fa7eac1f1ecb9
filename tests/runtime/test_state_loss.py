"""A store service whose private state was lost refuses to start; a fresh one starts."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from openbeat.contracts.codec import SchemaStore
from openbeat.pipeline.aggregator import AggregatorProcessor
from openbeat.pipeline.publisher import PublisherProcessor
from openbeat.runtime.clients import make_producer
from openbeat.runtime.state_loss import StateLost, check_state
from openbeat.runtime.topics import TopicNames
from openbeat.store import LocalStore

NAMES = TopicNames("unitloss")


class _Processor:
    def __init__(self, topic: str, missing: str | None) -> None:
        self.input_topics = [topic]
        self.missing = missing

    def state_missing(self) -> str | None:
        return self.missing


def _commit(bootstrap: str, group: str, topic: str, offset: int) -> None:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        consumer.commit({tp: OffsetAndMetadata(offset, "", -1)})
    finally:
        consumer.close(autocommit=False)


@pytest.mark.integration
def test_missing_state_with_committed_offsets_is_refused(
    kafka_bootstrap: str, make_topic: Callable[..., str], unique_name: Callable[[str], str]
) -> None:
    topic = make_topic("loss")
    producer = make_producer(kafka_bootstrap, client_id="loss")
    for i in range(5):
        producer.send(topic, value=b"%d" % i)
    producer.flush()
    producer.close()
    fresh, used = unique_name("fresh"), unique_name("used")
    _commit(kafka_bootstrap, used, topic, 5)

    # A first start (no offsets) and a service whose state is there both run.
    check_state("aggregator", _Processor(topic, "its checkpoint c"), kafka_bootstrap, fresh)
    check_state("aggregator", _Processor(topic, None), kafka_bootstrap, used)
    with pytest.raises(StateLost) as caught:
        check_state("aggregator", _Processor(topic, "its checkpoint c"), kafka_bootstrap, used)
    message = str(caught.value)
    assert message.startswith("service aggregator: its checkpoint c is missing")
    assert "OPENBEAT_PRIVATE_STORE" in message and "5 records" in message
    assert "--reset-offsets --to-earliest" in message and used in message


def test_the_aggregator_checkpoint_exists_once_offsets_can_be_committed(tmp_path: Path) -> None:
    private = LocalStore(tmp_path / "private", private=True)
    first = AggregatorProcessor(names=NAMES, schemas=SchemaStore.load(), private=private)
    assert first.state_missing() is not None
    first.flush(final=False)  # nothing absorbed (all dead-lettered, say): still a checkpoint
    again = AggregatorProcessor(names=NAMES, schemas=SchemaStore.load(), private=private)
    assert again.state_missing() is None
    private.delete("_internal/aggregator/state.json")  # the store lost it
    lost = AggregatorProcessor(names=NAMES, schemas=SchemaStore.load(), private=private)
    assert lost.state_missing() == "its checkpoint _internal/aggregator/state.json"


def test_the_publisher_tells_a_lost_staging_from_a_fresh_one(tmp_path: Path) -> None:
    private = LocalStore(tmp_path / "private", private=True)

    def publisher() -> Any:
        return PublisherProcessor(names=NAMES, schemas=SchemaStore.load(), private=private)

    first = publisher()
    assert first.state_missing() is not None
    first.flush(final=False)
    assert publisher().state_missing() is None
    for key in private.list():
        private.delete(key)
    assert publisher().state_missing() == "every staged record (staging/)"
