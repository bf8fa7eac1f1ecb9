"""The anonymizer: raw events in; anonymized public records, restricted counts and dead letters out.

Per message: decode (Avro single-object, or JSON by content-type), validate, drop superseded
revisions, anonymize, encode. Every failure becomes a dead letter carrying the original key, value
and headers untouched plus the reason; nothing an agency sends can stop the service.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from kafka import TopicPartition

from openbeat.contracts.codec import KIND_SCHEMAS, ContractError, SchemaStore
from openbeat.contracts.json_input import decode_json
from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.contracts.offenses import OffenseTable
from openbeat.contracts.validation import ValidationContext, validate
from openbeat.pipeline.revisions import RevisionState, restore_partition
from openbeat.privacy.anonymize import AnonymizeContext, AnonymizeError, anonymize
from openbeat.privacy.policy import Policy
from openbeat.runtime.loop import Headers, Out
from openbeat.runtime.topics import TopicNames

logger = logging.getLogger(__name__)

ID_FIELDS = {"incident": "incident_id", "report": "report_id", "engagement": "engagement_id"}
JSON_CONTENT_TYPES = (b"application/json", b"application/json; charset=utf-8")


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


class AnonymizerProcessor:
    """The anonymizer as a runtime-loop `Processor`."""

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
    ) -> None:
        self.names = names
        self.schemas = schemas
        self.jurisdiction = jurisdiction
        self.offenses = offenses
        self.future_skew = future_skew
        self.bootstrap = bootstrap
        self.actx = AnonymizeContext(
            policy=policy, key=key, jurisdiction=jurisdiction, offenses=offenses
        )
        self.input_topics = [names.raw(kind) for kind in KIND_SCHEMAS]
        self.revisions = RevisionState()
        self.counts = AnonymizerCounts()
        self.rejections: dict[str, int] = {}

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
        kind = self.names.kind_of_raw(message.topic)
        if kind is None:  # only subscribed topics arrive; guard against a misconfiguration
            return [
                self._dead_letter(
                    message, Rejection("unknown_topic", f"no kind for topic {message.topic}")
                )
            ]
        record_or_rejection = self._decode_and_validate(kind, message)
        if isinstance(record_or_rejection, Rejection):
            self.rejections[record_or_rejection.code] = (
                self.rejections.get(record_or_rejection.code, 0) + 1
            )
            return [self._dead_letter(message, record_or_rejection)]
        record = record_or_rejection
        state_key = f"{kind}|{record['agency_id']}:{record[ID_FIELDS[kind]]}"
        revision = int(record.get("revision", 1))
        slot = (kind, message.partition)
        seen = self.revisions.current(slot, state_key)
        if seen is not None and revision <= seen:
            self.counts.superseded += 1
            return []
        try:
            outputs = anonymize(kind, record, self.actx)
        except AnonymizeError as exc:
            # Validation should have caught it; if not, the event is still bad input, not a
            # reason to stop: dead-letter it (its revision is not recorded as published).
            self.rejections[exc.code] = self.rejections.get(exc.code, 0) + 1
            return [self._dead_letter(message, Rejection(exc.code, exc.detail))]
        self.revisions.accept(slot, state_key, revision)
        outs = [
            Out(
                topic=self.names.revisions,
                key=state_key.encode(),
                value=str(revision).encode(),
                partition=message.partition,
            )
        ]
        for output in outputs:
            outs.append(self._encode_output(kind, output))
        return outs

    def _decode_and_validate(self, kind: str, message: Any) -> dict[str, Any] | Rejection:
        full_name = KIND_SCHEMAS[kind]
        value = message.value
        if value is None:
            return Rejection(
                "empty_value", "the message has no value (a tombstone is not an event)"
            )
        try:
            if _header(message, "content-type") in JSON_CONTENT_TYPES:
                record = decode_json(value, full_name, self.schemas)
            else:
                record = self.schemas.decode(value, expected_full_name=full_name).record
        except ContractError as exc:
            return Rejection(exc.code, exc.detail)
        ctx = ValidationContext(
            jurisdiction=self.jurisdiction,
            offenses=self.offenses,
            now=datetime.now(UTC),
            future_skew=self.future_skew,
        )
        failures = validate(kind, record, ctx)
        if failures:
            first = failures[0]
            detail = "; ".join(f.message for f in failures)
            return Rejection(first.code, detail)
        return record

    def _encode_output(self, kind: str, output: Any) -> Out:
        if output.channel == "public":
            topic = self.names.public(kind)
            self.counts.published += 1
        elif output.full_name.endswith("WithheldIncident"):
            topic = self.names.withheld_incidents
            self.counts.restricted += 1
        else:
            topic = self.names.survey_responses
            self.counts.restricted += 1
        value = self.schemas.encode(output.full_name, output.record)
        return Out(topic=topic, key=output.key.encode(), value=value)

    def _dead_letter(self, message: Any, rejection: Rejection) -> Out:
        headers: Headers = list(message.headers or [])
        headers += [
            ("openbeat.error.code", rejection.code.encode()),
            ("openbeat.error.detail", rejection.detail.encode("utf-8", "replace")),
            ("openbeat.source.topic", message.topic.encode()),
            ("openbeat.source.partition", str(message.partition).encode()),
            ("openbeat.source.offset", str(message.offset).encode()),
        ]
        logger.info(
            "dead-lettered %s[%d]@%d: %s",
            message.topic,
            message.partition,
            message.offset,
            rejection.code,
        )
        return Out(
            topic=self.names.deadletter, key=message.key, value=message.value, headers=headers
        )


def _header(message: Any, name: str) -> bytes | None:
    for key, value in message.headers or ():
        if key.lower() == name:
            return bytes(value) if value is not None else None
    return None
