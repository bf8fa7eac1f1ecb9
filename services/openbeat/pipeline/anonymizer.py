"""The anonymizer: raw events in; anonymized public records, restricted counts and dead letters out.

Per message: decode (Avro single-object, or JSON by content-type), validate, drop superseded
revisions, anonymize, encode. Every failure becomes a dead letter carrying the original key, value
and headers untouched plus the reason; nothing an agency sends can stop the service.

The work is split in two so that most of it can run in worker processes:
- `AnonymizerCore.prepare` is pure given the message: decode, validate, anonymize and encode,
  giving a `Prepared` (the outputs, or the dead letter, plus the event's state key and revision).
- `AnonymizerProcessor` applies the revision check to each `Prepared` in input order in the main
  process and emits its outputs (or nothing for a superseded revision). A superseded revision is
  dropped whether or not it anonymizes, exactly as when the check ran first.
`process` does both in this process; `process_many` runs `prepare` in forked workers (when
configured) on chunks of the batch. Both give the same outputs in the same order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any, NamedTuple, cast

from kafka import TopicPartition

from openbeat.contracts.codec import KIND_SCHEMAS, ContractError, SchemaStore
from openbeat.contracts.json_input import decode_json
from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.contracts.offenses import OffenseTable
from openbeat.contracts.validation import ValidationContext, validate
from openbeat.pipeline.revisions import RevisionState, restore_partition
from openbeat.privacy.anonymize import AnonymizeContext, AnonymizeError, anonymize
from openbeat.privacy.policy import Policy
from openbeat.runtime.loop import Headers, Out, OutTuple
from openbeat.runtime.topics import TopicNames
from openbeat.runtime.workers import ForkedWorkers, default_workers

logger = logging.getLogger(__name__)

ID_FIELDS = {"incident": "incident_id", "report": "report_id", "engagement": "engagement_id"}
JSON_CONTENT_TYPES = (b"application/json", b"application/json; charset=utf-8")
# How long one validation "now" is reused. A reused now is at most this much in the past, which
# only makes the future-timestamp check stricter by as much (against minutes of allowed skew);
# building the context per message cost more than the checks it serves. Worker chunks take one
# `now` each, made when the chunk is handed out (a chunk takes milliseconds).
NOW_REFRESH_S = 0.05
# Messages per worker task: large enough that pickling and the pipe cost little per message
# (~1 us), small enough that the main process starts sending soon after a batch arrives.
CHUNK = 250
# The first chunks of a batch are smaller, so the main process waits less before its first send.
FIRST_CHUNK = 50

# One input message as the workers see it: plain values, cheap to pickle.
# (topic, partition, offset, key, value, headers)
RawMessage = tuple[str, int, int, bytes | None, bytes | None, Sequence[tuple[str, bytes]]]


class Prepared(NamedTuple):
    """What the pure stage made of one message.

    `state_key` is None when the message was rejected before the revision check (undecodable,
    invalid): `outs` is then its dead letter, emitted whatever the state. Otherwise `outs` is
    emitted only if `revision` is newer than the one published for `state_key`; it is the
    changelog entry plus the encoded records, or the dead letter (`rejection` set) when
    anonymizing failed.
    """

    outs: tuple[Out, ...]
    state_key: str | None = None
    kind: str = ""
    revision: int = 0
    rejection: str | None = None
    published: int = 0
    restricted: int = 0


@dataclass(frozen=True)
class Rejection:
    """Why an event was dead-lettered: a machine-readable code and one human sentence."""

    code: str
    detail: str


@dataclass
class AnonymizerCounts:
    published: int = 0
    restricted: int = 0
    superseded: int = 0


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
        self._revisions_topic = names.revisions

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
        topic, partition, _, _, value, headers = message
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
        outs = [
            Out(
                topic=self._revisions_topic,
                key=state_key.encode(),
                value=str(revision).encode(),
                partition=partition,
            )
        ]
        published = restricted = 0
        for output in outputs:
            if output.channel == "public":
                topic = self._public_topic[kind]
                published += 1
            elif output.full_name.endswith("WithheldIncident"):
                topic = self.names.withheld_incidents
                restricted += 1
            else:
                topic = self.names.survey_responses
                restricted += 1
            value = self.schemas.encode(output.full_name, output.record)
            outs.append(Out(topic=topic, key=output.key.encode(), value=value))
        return Prepared(tuple(outs), state_key, kind, revision, None, published, restricted)

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
        headers: Headers = list(original or [])
        headers += [
            ("openbeat.error.code", rejection.code.encode()),
            ("openbeat.error.detail", rejection.detail.encode("utf-8", "replace")),
            ("openbeat.source.topic", topic.encode()),
            ("openbeat.source.partition", str(partition).encode()),
            ("openbeat.source.offset", str(offset).encode()),
        ]
        return Out(topic=self.names.deadletter, key=key, value=value, headers=headers)


# A `Prepared` as plain tuples (its outputs too), the form results cross the pipe in: several
# times cheaper to pickle and unpickle than NamedTuples (~0.7 against ~6 us per event).
WirePrepared = tuple[tuple[OutTuple, ...], str | None, str, int, str | None, int, int]


def _prepare_chunk(
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
        )
        for p in core.prepare_chunk(*task)
    ]


def _raw(message: Any) -> RawMessage:
    return (
        message.topic,
        message.partition,
        message.offset,
        message.key,
        message.value,
        message.headers or (),
    )


def _chunks(messages: Sequence[RawMessage]) -> list[Sequence[RawMessage]]:
    """Small chunks first (the main process starts sending sooner), then CHUNK-sized ones."""
    cuts = [0]
    while cuts[-1] < len(messages):
        step = FIRST_CHUNK if len(cuts) <= 2 else CHUNK
        cuts.append(min(len(messages), cuts[-1] + step))
    return [messages[a:b] for a, b in pairwise(cuts)]


# The anonymizer's pool: chunks of (now, messages) in, their `Prepared` out.
Workers = ForkedWorkers[AnonymizerCore, tuple[datetime, Sequence[RawMessage]], list[WirePrepared]]


class AnonymizerProcessor:
    """The anonymizer as a runtime-loop `Processor` (and batch processor, see `process_many`).

    With `workers` > 0 (None: one per CPU), `start()` (called by the loop before it creates its
    Kafka clients) forks that many worker processes and `close()` stops them; until `start()`
    everything runs in this process.
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
        bootstrap: str,
        future_skew: timedelta = timedelta(minutes=5),
        workers: int | None = 0,
    ) -> None:
        self.names = names
        self.bootstrap = bootstrap
        self.core = AnonymizerCore(
            names=names,
            schemas=schemas,
            jurisdiction=jurisdiction,
            offenses=offenses,
            policy=policy,
            key=key,
            future_skew=future_skew,
        )
        self.input_topics: Sequence[str] = [names.raw(kind) for kind in KIND_SCHEMAS]
        self.revisions = RevisionState()
        self.counts = AnonymizerCounts()
        self.rejections: dict[str, int] = {}
        self._vctx: ValidationContext | None = None
        self._vctx_at = 0.0
        if workers is None:
            workers = default_workers()
        if workers < 0:
            raise ValueError(f"workers must be 0 (none) or more, not {workers}")
        self.workers: Workers | None = (
            ForkedWorkers(workers, self.core, _prepare_chunk) if workers > 0 else None
        )

    def start(self) -> None:
        if self.workers is not None:
            self.workers.start()

    def close(self) -> None:
        if self.workers is not None:
            self.workers.close()

    # -- runtime hooks ------------------------------------------------------------------------

    def assigned(self, partitions: set[TopicPartition]) -> None:
        # Changelog partition p holds the state of partition p of every raw topic (keys carry
        # the kind), so it is read once and split between the slots we were given.
        slots = {(self.names.kind_of_raw(tp.topic) or "", tp.partition) for tp in partitions}
        wanted = {slot for slot in slots if slot[0] and not self.revisions.loaded(slot)}
        for partition in sorted({p for _, p in wanted}):
            entries = restore_partition(self.bootstrap, self.names.revisions, partition)
            for kind, p in wanted:
                if p == partition:
                    prefix = f"{kind}|"
                    self.revisions.load(
                        (kind, p), {k: v for k, v in entries.items() if k.startswith(prefix)}
                    )

    def revoked(self, partitions: set[TopicPartition]) -> None:
        for tp in partitions:
            self.revisions.drop((self.names.kind_of_raw(tp.topic) or "", tp.partition))

    def commit(self) -> None:
        self.revisions.commit()

    def abort(self) -> None:
        self.revisions.abort()

    def report(self) -> list[str]:
        """What this run did, for the operator."""
        lines = [
            f"published {self.counts.published} public records, "
            f"{self.counts.restricted} restricted (withheld incidents, survey scores), "
            f"ignored {self.counts.superseded} superseded revisions"
        ]
        dead = sum(self.rejections.values())
        reasons = ", ".join(f"{code} {n}" for code, n in sorted(self.rejections.items()))
        lines.append(f"dead-lettered {dead}" + (f": {reasons}" if reasons else ""))
        return lines

    # -- the work -----------------------------------------------------------------------------

    def process(self, message: Any) -> Iterable[Out]:
        raw = _raw(message)
        # In this process the outputs stay `Out`s (what `prepare` made).
        return cast(
            Sequence[Out], self._apply(raw, self.core.prepare(raw, self._validation_context()))
        )

    def process_many(self, messages: Sequence[Any]) -> Iterator[Iterable[OutTuple]]:
        """The outputs of each message in turn, as `process` would give them; the pure work
        runs in the workers, chunk by chunk, while the caller sends what is already done.

        The chunks are handed to the workers on this call, not on the first `next`, so they
        work while the caller still does something else (the loop sends the batch's offsets).
        """
        if self.workers is None or not self.workers.started:
            return (self.process(message) for message in messages)
        chunks = _chunks([_raw(m) for m in messages])
        now = datetime.now(UTC)
        return self._in_order(chunks, self.workers.map([(now, chunk) for chunk in chunks]))

    def _in_order(
        self, chunks: Sequence[Sequence[RawMessage]], results: Iterator[list[WirePrepared]]
    ) -> Iterator[Iterable[OutTuple]]:
        for chunk, prepared in zip(chunks, results, strict=True):
            for raw, one in zip(chunk, prepared, strict=True):
                yield self._apply(raw, one)

    def _apply(self, message: RawMessage, prepared: Prepared | WirePrepared) -> Sequence[OutTuple]:
        """The revision check, in input order; the counts; the outputs to send."""
        outs, state_key, kind, revision, rejection, published, restricted = prepared
        if state_key is not None:
            slot = (kind, message[1])
            seen = self.revisions.current(slot, state_key)
            if seen is not None and revision <= seen:
                self.counts.superseded += 1
                return ()
            if rejection is None:
                self.revisions.accept(slot, state_key, revision)
                self.counts.published += published
                self.counts.restricted += restricted
                return outs
        code = rejection or "unknown"
        self.rejections[code] = self.rejections.get(code, 0) + 1
        logger.info("dead-lettered %s[%d]@%d: %s", message[0], message[1], message[2], code)
        return outs

    def _validation_context(self) -> ValidationContext:
        """The context with a current `now` (refreshed every NOW_REFRESH_S, see there)."""
        tick = time.monotonic()
        if self._vctx is None or tick - self._vctx_at >= NOW_REFRESH_S:
            self._vctx = self.core.context(datetime.now(UTC))
            self._vctx_at = tick
        return self._vctx


def _header(headers: Sequence[tuple[str, bytes]], name: str) -> bytes | None:
    for key, value in headers:
        if key.lower() == name:
            return bytes(value) if value is not None else None
    return None
