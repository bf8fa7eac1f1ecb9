"""The alerter: public incidents and engagements in; RSS/Atom/JSON feeds in the store out.

Its state (the alert-relevant public records) is checkpointed to the private store before input
offsets are committed, and absorbing a record twice changes nothing, so after a crash the restored
state plus the replayed input gives the same feeds: no duplicates, no lost items. A feed object is
written only when its bytes changed, so an unchanged feed keeps its ETag.

The checkpoint holds every incident of the spike baseline (weeks of them: tens of MB of JSON at
a busy city's volume), so it is written off the loop thread (`flush_in_background`): serialized
record by record, so the loop thread gets the interpreter back between records and new alerts
keep reaching the feeds in well under a second while the checkpoint is written.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from kafka import TopicPartition

from openbeat.contracts.codec import SchemaStore
from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.feeds import AlertRules, AlertState, feed_objects
from openbeat.feeds.alerts import STATE_FORMAT
from openbeat.pipeline.public_input import decode_topic_record
from openbeat.privacy.policy import Policy, load_policy
from openbeat.runtime.topics import TopicNames
from openbeat.site.publisher import SiteRebuilder
from openbeat.store import ObjectNotFound, ObjectStore, put_changed

logger = logging.getLogger(__name__)

# Outside datasets/ and feeds/: internal state is never part of the published tree.
CHECKPOINT_KEY = "_internal/alerter/state.json"


# Feeds are rendered after a batch at most this often (and once the input is drained, by
# `after_idle`): rendering walks the whole state, so after every batch of a backfill it cost
# as much as absorbing the batch. Half a second keeps alerts well inside the 2 s p99 the
# alerts bench holds them to.
FEED_INTERVAL_S = 0.5


class AlerterProcessor:
    """The alerter as a sink-loop processor."""

    def __init__(
        self,
        *,
        names: TopicNames,
        schemas: SchemaStore,
        store: ObjectStore,
        private: ObjectStore,
        rules: AlertRules,
        jurisdiction: Jurisdiction,
        policy: Policy | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        site: SiteRebuilder | None = None,
    ) -> None:
        self.names = names
        # The publication delay (Policy.publication_day): younger incidents alert without
        # block or point. The shipped default policy when none is given.
        self.policy = policy if policy is not None else load_policy()
        self.schemas = schemas
        self.store = store  # the public root: feeds only
        self.private = private  # the checkpoint
        self.rules = rules
        self.jurisdiction = jurisdiction
        self.clock = clock
        # Feeds changed -> the site's alert, meeting and calendar pages follow, built off the
        # loop thread (debounced), so charts never delay an alert.
        self.site = site
        self.input_topics: Sequence[str] = [names.public("incident"), names.public("engagement")]
        self.state = self._restore()
        self.written: dict[str, bytes] = {}
        self.writes = 0
        # Wall-clock time the feeds were last made current (metrics: last feed write age).
        self.last_feed_write_at: float | None = None
        # Records absorbed since the feeds were last rendered (`after_batch` waits a little).
        self.owes_output = False
        self._rendered_at = float("-inf")  # time.monotonic() of the last render
        # One writer thread: checkpoints are written in order, never two at once.
        self._checkpoints = ThreadPoolExecutor(1, thread_name_prefix="alerter-checkpoint")

    def _restore(self) -> AlertState:
        try:
            state = AlertState.from_bytes(self.private.get(CHECKPOINT_KEY))
            logger.info("alerter state restored: %d records", len(state))
            self.restored = True
            return state
        except ObjectNotFound:
            self.restored = False
            return AlertState(self.jurisdiction.timezone)

    def state_missing(self) -> str | None:
        """What of its state the store lacks at start (runtime.state_loss)."""
        return None if self.restored else f"its checkpoint {CHECKPOINT_KEY}"

    def assigned(self, partitions: set[TopicPartition]) -> None:
        """Nothing to do: the state covers every partition (the alerter runs as one copy)."""

    def revoked(self, partitions: set[TopicPartition]) -> None:
        """Nothing to do: records absorbed so far stay valid for whoever consumes next."""

    def process(self, message: Any) -> None:
        """Absorb one record; a record that cannot be used raises (the loop dead-letters it:
        public topics are written by the anonymizer only, so a bad record there is a bug to
        report, not a reason to stop publishing every other alert)."""
        record = decode_topic_record(self.schemas, message)
        # The record's timestamp (set when the anonymizer published it, kept on replay) dates a
        # meeting's announcement and how long a withdrawal is remembered.
        stamp = getattr(message, "timestamp", None)
        seen = stamp / 1000 if isinstance(stamp, int) and stamp >= 0 else None
        if message.topic == self.names.public("incident"):
            self.state.absorb_incident(record, seen)
        else:
            self.state.absorb_engagement(record, seen)

    def after_batch(self) -> None:
        """The feeds, unless they were rendered less than FEED_INTERVAL_S ago (then they are
        owed: `after_idle` or the next batch writes them)."""
        if time.monotonic() - self._rendered_at >= FEED_INTERVAL_S:
            self.write_feeds()
        else:
            self.owes_output = True

    def after_idle(self) -> None:
        """The loop polled nothing: write the feeds owed by the last batches."""
        if self.owes_output:
            self.write_feeds()

    def flush(self, final: bool) -> None:
        self.write_feeds()
        now = self.clock()
        self.state.prune(now, self.rules)
        self.private.put(CHECKPOINT_KEY, self.state.to_bytes(), "application/json")
        if final:
            self._checkpoints.shutdown(wait=True)
            if self.site is not None:
                self.site.close(timeout=10)

    def flush_in_background(self) -> Future[None]:
        """`flush`, with the checkpoint serialized and put on the checkpoint thread.

        Records are never changed in place (a newer version replaces the dict), so shallow
        copies of the tables are a consistent snapshot at the cost of copying two dicts.
        """
        self.write_feeds()
        self.state.prune(self.clock(), self.rules)
        snapshot = _Snapshot(
            self.state.timezone,
            dict(self.state._incidents),
            dict(self.state._engagements),
        )
        return self._checkpoints.submit(self._put_checkpoint, snapshot)

    def _put_checkpoint(self, snapshot: _Snapshot) -> None:
        self.private.put(CHECKPOINT_KEY, snapshot.to_bytes(), "application/json")

    def write_feeds(self) -> list[str]:
        """Put every feed object whose bytes changed; return their keys."""
        changed = []
        self.owes_output = False
        self._rendered_at = time.monotonic()
        now = self.clock()
        detail = self.policy.publication_day(now, self.jurisdiction.zone)
        for obj in feed_objects(self.state, now, self.rules, self.jurisdiction, detail):
            if put_changed(
                self.store, self.written, obj.key, obj.data, obj.content_type, obj.cache_control
            ):
                changed.append(obj.key)
        self.writes += len(changed)
        if changed and self.site is not None:
            self.site.request()
        self.last_feed_write_at = time.time()
        return changed

    def report(self) -> list[str]:
        return [
            f"feeds: {self.writes} objects written, {len(self.state)} records in the alert state",
            f"feeds are in {self.store.url_for('feeds/alerts.rss').rsplit('/', 1)[0]}/",
        ]


class _Snapshot:
    """The alert state's tables at one moment, serialized exactly like `AlertState.to_bytes`."""

    def __init__(
        self,
        timezone: str,
        incidents: Mapping[str, Mapping[str, Any]],
        engagements: Mapping[str, Mapping[str, Any]],
    ) -> None:
        self.timezone = timezone
        self.incidents = incidents
        self.engagements = engagements

    def to_bytes(self) -> bytes:
        # Keys in sorted order, as json.dumps(sort_keys=True) writes the whole document; one
        # dumps call per record rather than one for everything (which would hold the GIL for
        # the whole serialization, a second or more for a large state).
        return "".join(
            (
                '{"engagements":',
                _table(self.engagements),
                f',"format":{STATE_FORMAT},"incidents":',
                _table(self.incidents),
                ',"timezone":',
                json.dumps(self.timezone),
                "}",
            )
        ).encode("ascii")


def _table(table: Mapping[str, Mapping[str, Any]]) -> str:
    dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode
    return "{" + ",".join(f"{dumps(k)}:{dumps(table[k])}" for k in sorted(table)) + "}"
