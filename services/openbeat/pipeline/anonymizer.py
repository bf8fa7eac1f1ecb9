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

The revision state changes of a transaction are recorded by `changelog()`: one batch message
per changelog partition (pipeline.revisions), which `process_many` adds to the outputs of the
batch's last message, so each input costs one send (its record) rather than two.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any, cast

from kafka import TopicPartition

from openbeat.contracts.codec import KIND_SCHEMAS, SchemaStore
from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.contracts.offenses import OffenseTable
from openbeat.contracts.validation import ValidationContext
from openbeat.pipeline.prepare import (
    NOW_REFRESH_S,
    AnonymizerCore,
    Prepared,
    RawMessage,
    WirePrepared,
    prepare_chunk,
    raw_message,
)
from openbeat.pipeline.revisions import RevisionState, pack, restore_partition, unpack
from openbeat.privacy.policy import Policy
from openbeat.privacy.withdrawal import keep
from openbeat.runtime.loop import Out, OutTuple
from openbeat.runtime.topics import TopicNames
from openbeat.runtime.workers import ForkedWorkers, default_workers

logger = logging.getLogger(__name__)

# Messages per worker task: large enough that pickling and the pipe cost little per message
# (~1 us), small enough that the main process starts sending soon after a batch arrives.
CHUNK = 250
# The first chunks of a batch are smaller, so the main process waits less before its first send.
FIRST_CHUNK = 50


@dataclass
class AnonymizerCounts:
    published: int = 0
    restricted: int = 0
    superseded: int = 0


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
            ForkedWorkers(workers, self.core, prepare_chunk) if workers > 0 else None
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

    def outcomes(self) -> dict[str, int]:
        """Input records by what became of them (metrics: openbeat_records_total)."""
        return {
            "published": self.counts.published,
            "restricted": self.counts.restricted,
            "superseded": self.counts.superseded,
            "dead_lettered": sum(self.rejections.values()),
        }

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

    def changelog(self) -> list[Out]:
        """The changelog messages recording the revisions accepted since the last commit or
        abort: sent in the same transaction as the outputs, so the state and the output are
        committed, or aborted, together."""
        return self.revisions.changelog(self.names.revisions)

    def process(self, message: Any) -> Iterable[Out]:
        """The outputs of one message (without the changelog: see `changelog`)."""
        raw = raw_message(message)
        # In this process the outputs stay `Out`s (what `prepare` made).
        return cast(
            Sequence[Out], self._apply(raw, self.core.prepare(raw, self._validation_context()))
        )

    def process_many(self, messages: Sequence[Any]) -> Iterator[Iterable[OutTuple]]:
        """The outputs of each message in turn, as `process` would give them; the pure work
        runs in the workers, chunk by chunk, while the caller sends what is already done.

        The chunks are handed to the workers on this call, not on the first `next`, so they
        work while the caller still does something else (the loop sends the batch's offsets).
        The last message's outputs end with the changelog of the transaction (`changelog`):
        the loop reads the whole iterator inside the batch's transaction, and a batch is one
        transaction, so the changelog covers exactly that transaction's state changes.
        """
        if self.workers is None or not self.workers.started:
            return self._with_changelog(self.process(message) for message in messages)
        chunks = _chunks([raw_message(m) for m in messages])
        now = datetime.now(UTC)
        return self._with_changelog(
            self._in_order(chunks, self.workers.map([(now, chunk) for chunk in chunks]))
        )

    def _with_changelog(
        self, outputs: Iterator[Iterable[OutTuple]]
    ) -> Iterator[Iterable[OutTuple]]:
        """`outputs`, the last item extended with the changelog (computed once it is reached).

        Closing this generator early (an aborted transaction) closes `outputs` with it.
        """
        last: Iterable[OutTuple] | None = None
        try:
            for outs in outputs:
                if last is not None:
                    yield last
                last = outs
            if last is not None:
                yield [*last, *self.changelog()]
        finally:
            close = getattr(outputs, "close", None)
            if close is not None:
                close()

    def _in_order(
        self, chunks: Sequence[Sequence[RawMessage]], results: Iterator[list[WirePrepared]]
    ) -> Iterator[Iterable[OutTuple]]:
        for chunk, prepared in zip(chunks, results, strict=True):
            for raw, one in zip(chunk, prepared, strict=True):
                yield self._apply(raw, one)

    def _apply(self, message: RawMessage, prepared: Prepared | WirePrepared) -> Sequence[OutTuple]:
        """The revision check, in input order; the counts; the outputs to send."""
        outs, state_key, kind, revision, rejection, published, restricted = prepared[:7]
        if state_key is not None:
            slot = (kind, message[1])
            # One look-up per event (this runs in the main process, which every send waits on).
            entry = self.revisions.entry(slot, state_key)
            if entry is not None and revision <= unpack(entry)[0]:
                self.counts.superseded += 1
                return ()
            if rejection is None:
                if_was_public, if_never_public, public_now, if_seen = prepared[7:11]
                was_public = entry is not None and unpack(entry)[1]
                self.revisions.put(slot, state_key, pack(revision, was_public or public_now))
                self.counts.published += published
                self.counts.restricted += restricted
                # privacy.withdrawal: what the event's history selects follows the records.
                extra = if_was_public if was_public else if_never_public
                if if_seen and keep("was_seen", was_public, was_seen=entry is not None):
                    extra = (*extra, *if_seen)
                    self.counts.restricted += len(if_seen)
                return [*outs, *extra] if extra else outs
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
