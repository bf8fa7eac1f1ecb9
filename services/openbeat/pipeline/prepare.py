"""The anonymizer's pure stage: one raw message in, a `Prepared` out, no state kept.

Decode (Avro single-object, or JSON by content-type), validate, anonymize and encode. It runs in
the service process or in forked workers (see `pipeline.anonymizer`); either way the same input
gives the same `Prepared`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, NamedTuple, cast

from openbeat.contracts.codec import KIND_SCHEMAS, ContractError, SchemaStore
from openbeat.contracts.json_input import decode_json
from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.contracts.offenses import OffenseTable
from openbeat.contracts.validation import ValidationContext, validate
from openbeat.privacy.anonymize import AnonymizeContext, AnonymizeError, anonymize
from openbeat.privacy.message_time import message_timestamp_ms
from openbeat.privacy.policy import Policy
from openbeat.runtime.deadletter import Rejection, dead_letter, guarded
from openbeat.runtime.loop import Out, OutTuple
from openbeat.runtime.topics import TopicNames

logger = logging.getLogger(__name__)

ID_FIELDS = {"incident": "incident_id", "report": "report_id", "engagement": "engagement_id"}
JSON_CONTENT_TYPES = (b"application/json", b"application/json; charset=utf-8")
# How long one validation "now" is reused. A reused now is at most this much in the past, which
# only makes the future-timestamp check stricter by as much (against minutes of allowed skew);
# building the context per message cost more than the checks it serves. Worker chunks take one
# `now` each, made when the chunk is handed out (a chunk takes milliseconds).
NOW_REFRESH_S = 0.05
# One input message as the workers see it: plain values, cheap to pickle.
# (topic, partition, offset, key, value, headers)
RawMessage = tuple[str, int, int, bytes | None, bytes | None, Sequence[tuple[str, bytes]]]


class Prepared(NamedTuple):
    """What the pure stage made of one message.

    `state_key` is None when the message was rejected before the revision check (undecodable,
    invalid): `outs` is then its dead letter, emitted whatever the state. Otherwise `outs` is
    emitted only if `revision` is newer than the one published for `state_key`; it is the
    encoded records, or the dead letter (`rejection` set) when anonymizing failed. (The revision
    itself is recorded by the caller, in one changelog batch per transaction: pipeline.revisions.)
    """

    outs: tuple[Out, ...]
    state_key: str | None = None
    kind: str = ""
    revision: int = 0
    rejection: str | None = None
    published: int = 0
    restricted: int = 0
    # Withdrawal (privacy.withdrawal): outputs sent only if an earlier revision was public, or
    # only if none was; and whether this revision itself is public (it then "was public").
    if_was_public: tuple[Out, ...] = ()
    if_never_public: tuple[Out, ...] = ()
    public_now: bool = False
    # Outputs sent only if an earlier revision was accepted (the revision check knows).
    if_seen: tuple[Out, ...] = ()


class AnonymizerCore:
    """The pure part of the anonymizer: one message in, one `Prepared` out; no state kept.

    Built once in the service and inherited by each forked worker.
    """

    def __init__(
        self,
        *,
        names: TopicNames,
        schemas: SchemaStore,
        jurisdiction: Jurisdiction,
        offenses: OffenseTable,
        policy: Policy,
        key: bytes,
        future_skew: timedelta = timedelta(minutes=5),
    ) -> None:
        self.names = names
        self.schemas = schemas
        self.jurisdiction = jurisdiction
        self.offenses = offenses
        self.future_skew = future_skew
        self.actx = AnonymizeContext(
            policy=policy, key=key, jurisdiction=jurisdiction, offenses=offenses
        )
        # Topic names are formatted on every call of TopicNames; the hot path looks them up.
        self.kind_of_topic = {names.raw(kind): kind for kind in KIND_SCHEMAS}
        self._public_topic = {kind: names.public(kind) for kind in KIND_SCHEMAS}
        self._stamp_of: ValidationContext | None = None
        self._stamp = 0

    def _timestamp(self, ctx: ValidationContext) -> int:
        """The public and restricted messages' timestamp (privacy.message_time), once per
        context (a context's `now` is reused for many messages)."""
        if self._stamp_of is not ctx:
            self._stamp = message_timestamp_ms(ctx.now, self.jurisdiction.zone)
            self._stamp_of = ctx
        return self._stamp

    def context(self, now: datetime) -> ValidationContext:
        return ValidationContext(
            jurisdiction=self.jurisdiction,
            offenses=self.offenses,
            now=now,
            future_skew=self.future_skew,
        )

    def prepare_chunk(self, now: datetime, messages: Sequence[RawMessage]) -> list[Prepared]:
        ctx = self.context(now)
        return [self.prepare(message, ctx) for message in messages]

    def prepare(self, message: RawMessage, ctx: ValidationContext) -> Prepared:
        """The `Prepared` of one message; whatever goes wrong, its dead letter (never raises)."""
        return guarded(
            lambda: self._prepare(message, ctx),
            lambda rejection: self._rejected(message, rejection),
            f"{message[0]}[{message[1]}]@{message[2]}",
        )

    def _prepare(self, message: RawMessage, ctx: ValidationContext) -> Prepared:
        topic, _, _, _, value, headers = message
        kind = self.kind_of_topic.get(topic)
        if kind is None:  # only subscribed topics arrive; guard against a misconfiguration
            rejection = Rejection("unknown_topic", f"no kind for topic {topic}")
            return self._rejected(message, rejection)
        record_or_rejection = self._decode_and_validate(kind, value, headers, ctx)
        if isinstance(record_or_rejection, Rejection):
            return self._rejected(message, record_or_rejection)
        record = record_or_rejection
        state_key = f"{kind}|{record['agency_id']}:{record[ID_FIELDS[kind]]}"
        revision = int(record.get("revision", 1))
        try:
            outputs = anonymize(kind, record, self.actx)
        except AnonymizeError as exc:
            # Validation should have caught it; if not, the event is still bad input, not a
            # reason to stop: dead-letter it (its revision is not recorded as published).
            letter = self._dead_letter(message, Rejection(exc.code, exc.detail))
            return Prepared((letter,), state_key, kind, revision, exc.code)
        public_now = any(o.channel == "public" and o.when == "always" for o in outputs)
        by_when: dict[str, list[Out]] = {
            "always": [],
            "was_public": [],
            "never_public": [],
            "was_seen": [],
        }
        published = restricted = 0
        stamp = self._timestamp(ctx)
        for output in outputs:
            if output.channel == "public":
                topic = self._public_topic[kind]
                published += output.when == "always"
            elif output.full_name.endswith("WithheldIncident"):
                topic = self.names.withheld_incidents
                restricted += output.when not in ("was_public", "was_seen")
            else:
                topic = self.names.survey_responses
                restricted += 1
            value = self.schemas.encode(output.full_name, output.record)
            by_when[output.when].append(
                Out(topic=topic, key=output.key.encode(), value=value, timestamp_ms=stamp)
            )
        return Prepared(
            tuple(by_when["always"]),
            state_key,
            kind,
            revision,
            None,
            published,
            restricted,
            tuple(by_when["was_public"]),
            tuple(by_when["never_public"]),
            public_now,
            tuple(by_when["was_seen"]),
        )

    def _rejected(self, message: RawMessage, rejection: Rejection) -> Prepared:
        return Prepared((self._dead_letter(message, rejection),), rejection=rejection.code)

    def _decode_and_validate(
        self,
        kind: str,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes]],
        ctx: ValidationContext,
    ) -> dict[str, Any] | Rejection:
        full_name = KIND_SCHEMAS[kind]
        if value is None:
            return Rejection(
                "empty_value", "the message has no value (a tombstone is not an event)"
            )
        try:
            if _header(headers, "content-type") in JSON_CONTENT_TYPES:
                record = decode_json(value, full_name, self.schemas)
            else:
                record = self.schemas.decode(value, expected_full_name=full_name).record
        except ContractError as exc:
            return Rejection(exc.code, exc.detail)
        failures = validate(kind, record, ctx)
        if failures:
            first = failures[0]
            detail = "; ".join(f.message for f in failures)
            return Rejection(first.code, detail)
        return record

    def _dead_letter(self, message: RawMessage, rejection: Rejection) -> Out:
        topic, partition, offset, key, value, original = message
        return dead_letter(
            self.names.deadletter, (topic, partition, offset), key, value, original, rejection
        )


# A `Prepared` as plain tuples (its outputs too), the form results cross the pipe in: several
# times cheaper to pickle and unpickle than NamedTuples (~0.7 against ~6 us per event).
WirePrepared = tuple[
    tuple[OutTuple, ...],
    str | None,
    str,
    int,
    str | None,
    int,
    int,
    tuple[OutTuple, ...],
    tuple[OutTuple, ...],
    bool,
    tuple[OutTuple, ...],
]


def prepare_chunk(
    core: AnonymizerCore, task: tuple[datetime, Sequence[RawMessage]]
) -> list[WirePrepared]:
    """The worker task: one chunk of a batch (module level: it is sent to workers by name)."""
    return [
        (
            tuple(cast(OutTuple, tuple(out)) for out in p.outs),
            p.state_key,
            p.kind,
            p.revision,
            p.rejection,
            p.published,
            p.restricted,
            tuple(cast(OutTuple, tuple(out)) for out in p.if_was_public),
            tuple(cast(OutTuple, tuple(out)) for out in p.if_never_public),
            p.public_now,
            tuple(cast(OutTuple, tuple(out)) for out in p.if_seen),
        )
        for p in core.prepare_chunk(*task)
    ]


def raw_message(message: Any) -> RawMessage:
    return (
        message.topic,
        message.partition,
        message.offset,
        message.key,
        message.value,
        message.headers or (),
    )


def _header(headers: Sequence[tuple[str, bytes]], name: str) -> bytes | None:
    for key, value in headers:
        if key.lower() == name:
            return bytes(value) if value is not None else None
    return None
