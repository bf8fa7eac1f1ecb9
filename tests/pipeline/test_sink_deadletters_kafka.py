"""The sink stages dead-letter public records they cannot use instead of skipping them.

Public topics are written by the anonymizer only, so a bad record there is a bug or a leftover of
an older deployment (e.g. a year-0001 engagement published before timestamps were bounded, which
crashed every release). Each sink sends it to the dead-letter topic with the reason and goes on.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from cli_helpers import run_cli
from message_fakes import FakeMessage
from openbeat.contracts.codec import ContractError, SchemaStore
from openbeat.contracts.examples import EXAMPLE_NOW, example_engagement
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.contracts.offenses import load_offense_table
from openbeat.pipeline.public_input import decode_topic_record
from openbeat.privacy.anonymize import AnonymizeContext, anonymize
from openbeat.privacy.policy import load_policy
from openbeat.runtime.clients import make_producer

YEAR_1 = datetime(1, 1, 1, tzinfo=UTC)


def _public_engagement(schemas: SchemaStore, **changes: Any) -> bytes:
    ctx = AnonymizeContext(
        load_policy(),
        b"sink-test-key-0123456789",
        load_jurisdiction("sample"),
        load_offense_table(),
    )
    [public] = [
        o for o in anonymize("engagement", example_engagement(), ctx) if o.channel == "public"
    ]
    return schemas.encode(public.full_name, {**public.record, **changes})


def test_a_public_record_outside_the_time_bounds_is_refused_with_its_field() -> None:
    schemas = SchemaStore.load()
    message = FakeMessage("t", 0, 0, b"k", _public_engagement(schemas, starts_at=YEAR_1))

    with pytest.raises(ContractError) as caught:
        decode_topic_record(schemas, message, EXAMPLE_NOW)

    assert caught.value.code == "timestamp_out_of_range"
    assert "starts_at" in caught.value.detail
    ok = FakeMessage("t", 0, 1, b"k", _public_engagement(schemas))
    assert decode_topic_record(schemas, ok, EXAMPLE_NOW)["starts_at"]


@pytest.mark.integration
def test_sinks_dead_letter_undecodable_and_out_of_range_public_records(
    openbeat_env: dict[str, str],
    topic_names: Any,
    kafka_bootstrap: str,
    consume: Callable[..., list],
) -> None:
    env = {**openbeat_env, "OPENBEAT_RELEASE_INTERVAL_S": "0", "OPENBEAT_COMMIT_INTERVAL_S": "0.5"}
    run_cli(env, "emit", "--sample", "100", "--seed", "4", "--no-progress")
    run_cli(env, "run", "anonymizer", "--until-idle")
    schemas = SchemaStore.load()
    producer = make_producer(kafka_bootstrap, client_id="bad-public")
    incidents, engagements = topic_names.public("incident"), topic_names.public("engagement")
    producer.send(incidents, key=b"x1", value=b"not avro at all", headers=[("trace", b"t1")])
    producer.send(engagements, key=b"x2", value=_public_engagement(schemas, starts_at=YEAR_1))
    producer.send(topic_names.survey_responses, key=b"x3", value=b"\xc3\x01" + b"\x00" * 8)
    producer.flush()
    producer.close()

    result = run_cli(env, "run", "aggregator", "publisher", "alerter", "--until-idle")

    letters = consume(topic_names.deadletter, expect=7)
    by_stage = Counter(
        (
            dict(m.headers)["openbeat.source.topic"].decode(),
            dict(m.headers)["openbeat.error.code"].decode(),
        )
        for m in letters
    )
    # The aggregator and the publisher read public incidents and engagements, the alerter too;
    # only the aggregator reads survey responses. Each stage dead-letters what it reads.
    assert by_stage == {
        (incidents, "not_single_object"): 3,
        (engagements, "timestamp_out_of_range"): 3,
        (topic_names.survey_responses, "unknown_fingerprint"): 1,
    }, by_stage
    trace = [m for m in letters if dict(m.headers).get("trace") == b"t1"]
    assert trace and all(m.value == b"not avro at all" for m in trace)
    out = result.stdout
    assert "aggregator:" in out and "dead-lettered 3 records it could not use" in out
    assert out.count("dead-lettered 2 records it could not use") == 2  # publisher, alerter
