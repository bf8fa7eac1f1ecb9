"""The alerter's state: the latest public incidents and engagements, and the feed items they give.

Events arrive late, out of order and more than once, so the state keeps one record per public id
-- the highest revision, with a total order for ties (withdrawn wins, then the canonical JSON) --
and the items are a function of that set and `now` alone. Absorbing the same events in any order
therefore gives the same state and the same feeds. The state serializes to canonical JSON bytes so
the alerter can checkpoint it and a restart renders identical feeds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from openbeat.contracts.timebounds import MAX_AHEAD
from openbeat.feeds.items import FeedItem, FeedItems, newest_first
from openbeat.feeds.records import (
    AlertInputError,
    normalize_engagement,
    normalize_incident,
)
from openbeat.feeds.rules import AlertRules
from openbeat.feeds.spikes import DAY, MAX_LOOKBACK_HOURS, detect_spikes
from openbeat.feeds.texts import incident_item, meeting_item, spike_item
from openbeat.messages import Messages, load_messages

logger = logging.getLogger(__name__)

STATE_FORMAT = 1

__all__ = ["AlertInputError", "AlertState", "AlertStateError"]


class AlertStateError(ValueError):
    """Checkpoint bytes that cannot be restored."""


# The latest event time of any version of a record, kept beside the winning version when that is
# later than the winner's own `t`: the record is pruned by it (see `_keep`).
KEEP_T = "keep_t"


# How long past the day it was published (its message timestamp, privacy.message_time) a
# withdrawal is remembered, whatever came before it. Public topics are keyed by district and every
# marker by the neutral one, so a marker and the versions it withdraws sit on different partitions
# and may arrive in either order: a marker pruned before an earlier version arrived let that
# version back into the feeds (a withheld incident with its block and hour; the alerter restart
# test's extra item). Every earlier version was processed before the marker, so its time is at
# most the marker's day plus a day (the day itself, and the minutes of future skew across a DST
# change) for an incident; a meeting may be scheduled as far ahead as any accepted time.
MARKER_KEEP_S = {"incident": 2 * DAY, "engagement": MAX_AHEAD.total_seconds() + DAY}


def _remembered(record: dict[str, Any], kind: str, seen: float | None) -> dict[str, Any]:
    """A withdrawal marker kept by the day it was published (`MARKER_KEEP_S`)."""
    if not record["withdrawn"] or seen is None:
        return record
    until = seen + MARKER_KEEP_S[kind]
    return {**record, KEEP_T: until} if until > _horizon(record) else record


def _rank(record: Mapping[str, Any]) -> tuple[int, bool, str]:
    """Total order between versions of one public id: revision, then withdrawn, then content."""
    # How long a record is kept is not content, nor is a marker's time (neutral constants).
    drop = {KEEP_T, "t"} if record["withdrawn"] else {KEEP_T}
    content = {k: v for k, v in record.items() if k not in drop}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (int(record["revision"]), bool(record["withdrawn"]), canonical)


def _horizon(record: Mapping[str, Any]) -> float:
    """The time after which no version of this record can show: what pruning goes by."""
    return max(float(record["t"]), float(record.get(KEEP_T, record["t"])))


def _kept_t(normalized: dict[str, Any], stored: Mapping[str, Any]) -> dict[str, Any]:
    """A checkpointed record keeps the horizon its versions gave it (`_keep`), which normalizing
    it again would drop. Checkpoints written before `KEEP_T` carry a marker's horizon as its `t`;
    a record's own `t` is normalized from its fields, so taking it too changes nothing else."""
    stored_times = [
        float(v)
        for v in (stored.get("t"), stored.get(KEEP_T))
        if isinstance(v, int | float) and not isinstance(v, bool)
    ]
    horizon = max([normalized["t"], *stored_times])
    return {**normalized, KEEP_T: horizon} if horizon > normalized["t"] else normalized


class AlertState:
    """Latest public incidents and engagements by public id, in the jurisdiction's time zone.

    `timezone` turns a sensitive incident's date into an event time (local midnight).
    """

    def __init__(self, timezone: str = "UTC") -> None:
        self.timezone = timezone
        self._zone = ZoneInfo(timezone)
        self._incidents: dict[str, dict[str, Any]] = {}
        self._engagements: dict[str, dict[str, Any]] = {}

    # ---- absorbing -------------------------------------------------------------------------

    def absorb_incident(self, record: Mapping[str, Any], seen: float | None = None) -> bool:
        """Take one PublicIncident dict; True when it changed the state.

        `seen` (POSIX seconds) is when the version was published: a withdrawal is remembered
        by it (`MARKER_KEEP_S`). Raises AlertInputError (a ValueError) for a record missing
        what the feeds need.
        """
        new = _remembered(normalize_incident(record, self._zone), "incident", seen)
        return self._keep(self._incidents, new)

    def absorb_engagement(self, record: Mapping[str, Any], seen: float | None = None) -> bool:
        """Take one PublicEngagement dict; True when it changed the state.

        `seen` (POSIX seconds) is when the version was published; the meeting's announcement
        time is the earliest of its versions', whichever order they arrive in, and a
        withdrawal is remembered by it (`MARKER_KEEP_S`).
        """
        new = _remembered(normalize_engagement(record, seen), "engagement", seen)
        current = self._engagements.get(new["public_id"])
        if current is not None and "announced" in new and "announced" in current:
            earliest = min(current["announced"], new["announced"])
            if earliest != current["announced"]:
                current = self._engagements[new["public_id"]] = {**current, "announced": earliest}
            new["announced"] = earliest
        return self._keep(self._engagements, new)

    @staticmethod
    def _keep(table: dict[str, dict[str, Any]], record: dict[str, Any]) -> bool:
        current = table.get(record["public_id"])
        if current is None:
            table[record["public_id"]] = record
            return True
        winner = record if _rank(record) > _rank(current) else current
        # The winner is kept as long as any version of its record could show, in whichever
        # order they come: pruned by its own time, it would let a replayed version (a restart
        # resumes from the committed offsets) back into the feeds -- a withdrawn marker's
        # neutral 1970 time, or a higher revision that moved the incident weeks back while the
        # revision it replaced is recent.
        horizon = max(_horizon(record), _horizon(current))
        kept = {k: v for k, v in winner.items() if k != KEEP_T}
        if horizon > kept["t"]:
            kept[KEEP_T] = horizon
        if kept == current:
            return False
        table[record["public_id"]] = kept
        return True

    def prune(self, now: datetime, rules: AlertRules) -> int:
        """Forget records that can no longer affect any feed at `now` or later; returns how many.

        Keeps the state (and its checkpoint) bounded. Incidents are kept for as long as the spike
        baseline and the start search can look back; meetings for a month after their start, so
        a late lower revision of a recent meeting still loses to the kept higher one.
        """
        spike = rules.spike
        keep_seconds = max(
            rules.incident_max_age_days * DAY,
            spike.window_hours * 3600 + spike.baseline_days * DAY + MAX_LOOKBACK_HOURS * 3600,
        )
        incident_floor = now.timestamp() - keep_seconds - DAY
        meeting_floor = now.timestamp() - 30 * DAY
        old_incidents = [k for k, r in self._incidents.items() if _horizon(r) < incident_floor]
        old_meetings = [k for k, r in self._engagements.items() if _horizon(r) < meeting_floor]
        for key in old_incidents:
            del self._incidents[key]
        for key in old_meetings:
            del self._engagements[key]
        if old_incidents or old_meetings:
            logger.debug(
                "pruned %d incidents and %d meetings older than the feeds can show",
                len(old_incidents),
                len(old_meetings),
            )
        return len(old_incidents) + len(old_meetings)

    def __len__(self) -> int:
        return len(self._incidents) + len(self._engagements)

    # ---- checkpoint ------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """Canonical JSON: equal states give equal bytes."""
        doc = {
            "format": STATE_FORMAT,
            "timezone": self.timezone,
            "incidents": self._incidents,
            "engagements": self._engagements,
        }
        # ASCII output: a lone surrogate in some record string still serializes (as \udXXX).
        return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode("ascii")

    @classmethod
    def from_bytes(cls, data: bytes) -> AlertState:
        """Restore a checkpoint written by `to_bytes`."""
        try:
            doc = json.loads(data.decode("utf-8"))
            if doc.get("format") != STATE_FORMAT:
                raise AlertStateError(f"unsupported alert state format {doc.get('format')!r}")
            state = cls(str(doc["timezone"]))
            for record in doc["incidents"].values():
                state._keep(
                    state._incidents, _kept_t(normalize_incident(record, state._zone), record)
                )
            for record in doc["engagements"].values():
                state._keep(state._engagements, _kept_t(normalize_engagement(record), record))
        except AlertStateError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise AlertStateError(f"alert state checkpoint is not readable: {exc}") from exc
        return state

    # ---- items -----------------------------------------------------------------------------

    def items(
        self,
        now: datetime,
        rules: AlertRules,
        district_names: Mapping[str, str] | None = None,
        messages: Messages | None = None,
        detail_through: date | None = None,
    ) -> FeedItems:
        """The current items of every feed at `now` (an aware datetime).

        `district_names` maps district ids to the names shown in texts (ids when absent);
        `messages` is the catalogue the texts come from (English when absent).
        `detail_through` is `Policy.publication_day(now)`: an incident reported later is younger
        than the publication delay, and its alert carries at most its district, category and
        hour (no block, no point, no offense code); None shows every detail.
        """
        m = messages or load_messages("en")
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        now = now.astimezone(UTC)
        names = dict(district_names or {})
        at = now.timestamp()

        alerts: list[FeedItem] = []
        oldest = at - rules.incident_max_age_days * DAY
        categories = frozenset(rules.categories)
        excluded = frozenset(rules.exclude_statuses)
        times: dict[str, list[float]] = {}
        for record in self._incidents.values():
            if record["withdrawn"]:
                continue
            times.setdefault(record["district"], []).append(record["t"])
            if (
                oldest < record["t"] <= at
                and record["category"] in categories
                and record["status"] not in excluded
            ):
                detailed = detail_through is None or (
                    record.get("reported_date", "9999") <= detail_through.isoformat()
                )
                alerts.append(incident_item(record, rules, names, self._zone, m, detailed))
        for district_times in times.values():
            district_times.sort()
        for spike in detect_spikes(times, now, rules.spike):
            alerts.append(spike_item(spike, rules, names, self._zone, m))

        meetings = []
        horizon = at + rules.meetings_horizon_days * DAY
        for record in self._engagements.values():
            if not record["withdrawn"] and at <= record["t"] <= horizon:
                meetings.append(meeting_item(record, rules, names, self._zone, m))

        by_district: dict[str, list[FeedItem]] = {}
        for item in alerts:
            by_district.setdefault(item.district, []).append(item)
        return FeedItems(
            alerts=newest_first(alerts, rules.feed_size),
            meetings=newest_first(meetings, rules.feed_size),
            districts={d: newest_first(v, rules.feed_size) for d, v in sorted(by_district.items())},
        )
