"""The aggregator: public and restricted topics in; a checkpointed aggregate state out.

The state holds the latest revision of every countable record (late and out-of-order events
simply revise their window); `openbeat release` turns it into the `incident-counts` and
`engagement-summary` datasets with suppression. The checkpoint is written to the private store
before
input offsets are committed; absorbing a record twice changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from kafka import TopicPartition

from openbeat.aggregate.state import (
    PUBLIC_ENGAGEMENTS,
    PUBLIC_INCIDENTS,
    SURVEY_RESPONSES,
    WITHHELD_INCIDENTS,
    AggregateState,
)
from openbeat.contracts.codec import SchemaStore
from openbeat.pipeline.public_input import decode_topic_record
from openbeat.runtime.topics import TopicNames
from openbeat.store import ObjectNotFound, ObjectStore

logger = logging.getLogger(__name__)

# In the private store: withheld ids and single survey answers never reach the public root.
CHECKPOINT_KEY = "_internal/aggregator/state.json"


def channel_aliases(names: TopicNames) -> dict[str, str]:
    """This deployment's topic names -> the aggregate state's canonical channel names."""
    return {
        names.public("incident"): PUBLIC_INCIDENTS,
        names.withheld_incidents: WITHHELD_INCIDENTS,
        names.public("engagement"): PUBLIC_ENGAGEMENTS,
        names.survey_responses: SURVEY_RESPONSES,
    }


def load_aggregate_state(store: ObjectStore, names: TopicNames) -> AggregateState:
    aliases = channel_aliases(names)
    try:
        return AggregateState.from_bytes(store.get(CHECKPOINT_KEY), aliases=aliases)
    except ObjectNotFound:
        return AggregateState(aliases=aliases)


class AggregatorProcessor:
    """The aggregator as a sink-loop processor (one copy: the state covers every partition)."""

    def __init__(self, *, names: TopicNames, schemas: SchemaStore, private: ObjectStore) -> None:
        self.names = names
        self.schemas = schemas
        self.private = private
        self.input_topics: Sequence[str] = list(channel_aliases(names))
        self.state = load_aggregate_state(private, names)
        self._stored = private.exists(CHECKPOINT_KEY)
        self.absorbed = 0
        self._checkpointed = 0

    def assigned(self, partitions: set[TopicPartition]) -> None:
        """Nothing to do: the state was restored from the checkpoint at start."""

    def revoked(self, partitions: set[TopicPartition]) -> None:
        """Nothing to do."""

    def process(self, message: Any) -> None:
        """Absorb one record; a record that cannot be used raises (the loop dead-letters it)."""
        record = decode_topic_record(self.schemas, message)
        if self.state.add(message.topic, record):
            self.absorbed += 1

    def after_batch(self) -> None:
        """The state is only written at flush time (it can be large)."""

    def flush(self, final: bool) -> None:
        if self.absorbed == self._checkpointed and self._stored:
            return  # nothing new: the checkpoint in the store is current
        self.private.put(CHECKPOINT_KEY, self.state.to_bytes(), "application/json")
        self._checkpointed = self.absorbed
        self._stored = True

    def state_missing(self) -> str | None:
        """What of its state the store lacks (runtime.state_loss): offsets are committed only
        after a flush, and the first flush always writes the checkpoint."""
        return None if self._stored else f"its checkpoint {CHECKPOINT_KEY}"

    def report(self) -> list[str]:
        return [f"absorbed {self.absorbed} records into the aggregate state"]
