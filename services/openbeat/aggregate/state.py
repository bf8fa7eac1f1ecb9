"""The aggregator's state: the latest revision of every record the aggregates need, nothing more.

Records arrive from four channels in any order (partitions interleave, late events arrive days
later, a revision may overtake its predecessor). The state keeps, per channel and public_id, only
the record with the highest revision (on equal revisions the first one seen wins) reduced to the
few fields a count needs. Aggregates are computed from it on demand, so a late or out-of-order
event revises exactly the window it falls in, and the same set of records gives the same
aggregates whatever the order they came in.

Memory: each record is one dict entry mapping its public_id to one int, `revision << 32 | slot`,
where slot 0 means "not counted on this channel" (withdrawn, or an event that was not held) and
slot n points into a table of interned cell keys shared by every record of the same cell
(day x district x category for incidents). About 200 bytes per record, most of it the id string.

The state serializes to JSON bytes (`to_bytes` / `from_bytes`) so the service can checkpoint it
alongside its consumer offsets.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any

logger = logging.getLogger(__name__)

PUBLIC_INCIDENTS = "openbeat.public.incidents"
WITHHELD_INCIDENTS = "openbeat.restricted.withheld-incidents"
PUBLIC_ENGAGEMENTS = "openbeat.public.engagements"
SURVEY_RESPONSES = "openbeat.restricted.survey-responses"
CHANNELS = (PUBLIC_INCIDENTS, WITHHELD_INCIDENTS, PUBLIC_ENGAGEMENTS, SURVEY_RESPONSES)

# Bumped when the serialized layout changes; from_bytes refuses other versions rather than guess.
FORMAT_VERSION = 1

# The slot (index into the interned key table) lives in the low 32 bits of the packed int: far
# more distinct cells than any city produces, and the revision keeps its full range above it.
_SLOT_BITS = 32
_SLOT_MASK = (1 << _SLOT_BITS) - 1

# date.toordinal() of 1970-01-01: Avro `date` values may arrive as days since the epoch.
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()

CellKey = tuple[Any, ...]
"""An interned, JSON-safe tuple: (day ordinal, district, category) for incidents,
(start epoch seconds, district, kind, attendees) for held events,
(day ordinal, district, trust, safety) for survey responses."""


class AggregateStateError(ValueError):
    """A record or checkpoint the state cannot use; the message names the channel and field."""


class LatestByPublicId:
    """The highest revision seen per public_id on one channel, reduced to an interned cell key."""

    __slots__ = ("_key_slot", "keys", "latest")

    def __init__(self) -> None:
        self.latest: dict[str, int] = {}
        self.keys: list[CellKey] = []
        self._key_slot: dict[CellKey, int] = {}

    def offer(self, public_id: str, revision: int, key: CellKey | None) -> bool:
        """Keep (revision, key) if it is newer than what is held; key None means "not counted"."""
        current = self.latest.get(public_id)
        if current is not None and (current >> _SLOT_BITS) >= revision:
            return False
        slot = 0
        if key is not None:
            slot = self._key_slot.get(key, 0)
            if not slot:
                self.keys.append(key)
                slot = len(self.keys)
                self._key_slot[key] = slot
        self.latest[public_id] = (revision << _SLOT_BITS) | slot
        return True

    def counted(self) -> Iterator[tuple[str, CellKey]]:
        """(public_id, key) of every record whose latest state counts on this channel."""
        keys = self.keys
        for public_id, packed in self.latest.items():
            slot = packed & _SLOT_MASK
            if slot:
                yield public_id, keys[slot - 1]

    def is_counted(self, public_id: str) -> bool:
        return bool(self.latest.get(public_id, 0) & _SLOT_MASK)

    def dump(self) -> dict[str, Any]:
        """JSON-ready form; the key table is compacted to the keys still referenced."""
        remap: dict[int, int] = {}
        keys: list[list[Any]] = []
        ids: list[str] = []
        revisions: list[int] = []
        slots: list[int] = []
        for public_id, packed in self.latest.items():
            slot = packed & _SLOT_MASK
            if slot:
                new_slot = remap.get(slot)
                if new_slot is None:
                    keys.append(list(self.keys[slot - 1]))
                    new_slot = remap[slot] = len(keys)
                slot = new_slot
            ids.append(public_id)
            revisions.append(packed >> _SLOT_BITS)
            slots.append(slot)
        return {"keys": keys, "ids": ids, "revisions": revisions, "slots": slots}

    @classmethod
    def load(cls, data: Mapping[str, Any]) -> LatestByPublicId:
        table = cls()
        table.keys = [tuple(key) for key in data["keys"]]
        table._key_slot = {key: slot for slot, key in enumerate(table.keys, start=1)}
        ids, revisions, slots = data["ids"], data["revisions"], data["slots"]
        if not len(ids) == len(revisions) == len(slots):
            raise AggregateStateError("checkpoint: ids, revisions and slots differ in length")
        if any(not 0 <= slot <= len(table.keys) for slot in slots):
            raise AggregateStateError("checkpoint: a slot points outside the key table")
        table.latest = {
            public_id: (revision << _SLOT_BITS) | slot
            for public_id, revision, slot in zip(ids, revisions, slots, strict=True)
        }
        return table


def day_ordinal(value: Any) -> int:
    """A local date (datetime.date, or Avro days since 1970-01-01) as a proleptic ordinal."""
    if isinstance(value, datetime):
        raise TypeError("expected a date, got a datetime")
    if isinstance(value, date):
        return value.toordinal()
    if isinstance(value, int) and not isinstance(value, bool):
        return value + _EPOCH_ORDINAL
    raise TypeError(f"expected a date, got {type(value).__name__}")


def epoch_seconds(value: Any) -> int:
    """A UTC instant (tz-aware datetime, or Avro timestamp-millis) as whole epoch seconds."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise TypeError("timestamp has no time zone (expected UTC)")
        return int(value.timestamp() // 1)
    if isinstance(value, int) and not isinstance(value, bool):
        return value // 1000
    raise TypeError(f"expected a timestamp, got {type(value).__name__}")


def _incident_key(record: Mapping[str, Any]) -> CellKey:
    return (day_ordinal(record["occurred_date"]), record["district"], record["category"])


def _event_key(record: Mapping[str, Any]) -> CellKey | None:
    # Only held events are counted; a scheduled or cancelled event keeps its revision (so an
    # older "held" revision cannot come back) but no key.
    if record["status"] != "held":
        return None
    attendees = record.get("attendee_count") or 0
    return (epoch_seconds(record["starts_at"]), record["district"], record["kind"], attendees)


def _survey_key(record: Mapping[str, Any]) -> CellKey:
    return (
        day_ordinal(record["responded_date"]),
        record["district"],
        int(record["trust_score"]),
        int(record["safety_score"]),
    )


_KEY_OF = {
    PUBLIC_INCIDENTS: _incident_key,
    WITHHELD_INCIDENTS: _incident_key,
    PUBLIC_ENGAGEMENTS: _event_key,
    SURVEY_RESPONSES: _survey_key,
}


class AggregateState:
    """Latest revision per public_id for the four channels the aggregates are built from.

    `aliases` maps other channel names (for example per-test topic names) to the canonical ones.
    """

    def __init__(self, aliases: Mapping[str, str] | None = None) -> None:
        self.tables: dict[str, LatestByPublicId] = {name: LatestByPublicId() for name in CHANNELS}
        self._aliases = dict(aliases or {})
        for alias, target in self._aliases.items():
            if target not in self.tables:
                raise AggregateStateError(f"alias {alias!r} points at unknown channel {target!r}")

    def _table(self, channel: str) -> tuple[str, LatestByPublicId]:
        name = self._aliases.get(channel, channel)
        table = self.tables.get(name)
        if table is None:
            raise AggregateStateError(f"unknown channel {channel!r} (expected one of {CHANNELS})")
        return name, table

    def add(self, channel: str, record: Mapping[str, Any]) -> bool:
        """Absorb one record; True if it became the latest state of its public_id there.

        Raises AggregateStateError (naming the field) for a record lacking what counts need.
        """
        name, table = self._table(channel)
        try:
            public_id = record["public_id"]
            revision = record["revision"]
            key = None if record.get("withdrawn", False) else _KEY_OF[name](record)
        except KeyError as exc:
            raise AggregateStateError(f"{name}: record lacks field {exc.args[0]!r}") from exc
        except (TypeError, ValueError) as exc:
            raise AggregateStateError(f"{name}: record has a bad value: {exc}") from exc
        if not isinstance(public_id, str) or not isinstance(revision, int):
            raise AggregateStateError(f"{name}: public_id must be a string, revision an int")
        return table.offer(public_id, revision, key)

    def add_many(self, channel: str, records: Iterable[Mapping[str, Any]]) -> int:
        """Absorb records of one channel; returns how many became a latest state."""
        return sum(self.add(channel, record) for record in records)

    def __len__(self) -> int:
        return sum(len(table.latest) for table in self.tables.values())

    # --- what the aggregates read -------------------------------------------------------------

    def incident_cells(self) -> tuple[Counter[CellKey], Counter[CellKey]]:
        """(public, withheld) counts per (day ordinal, district, category), each incident once.

        An incident counts from the public channel if its latest state there is not withdrawn,
        else from the restricted channel if its latest state there is not withdrawn: exactly the
        split the published `incidents` rows show, so the withheld count of a cell is what a
        reader would get by subtracting public rows from the cell.
        """
        public_table = self.tables[PUBLIC_INCIDENTS]
        public: Counter[CellKey] = Counter(key for _, key in public_table.counted())
        withheld: Counter[CellKey] = Counter(
            key
            for public_id, key in self.tables[WITHHELD_INCIDENTS].counted()
            if not public_table.is_counted(public_id)
        )
        return public, withheld

    def held_events(self) -> Iterator[CellKey]:
        """(start epoch seconds, district, kind, attendees) of every held, public event."""
        return (key for _, key in self.tables[PUBLIC_ENGAGEMENTS].counted())

    def survey_scores(self) -> Iterator[CellKey]:
        """(day ordinal, district, trust, safety) of every survey response's latest revision."""
        return (key for _, key in self.tables[SURVEY_RESPONSES].counted())

    # --- checkpoints --------------------------------------------------------------------------

    def to_bytes(self) -> bytes:
        document = {
            "format": FORMAT_VERSION,
            "channels": {name: table.dump() for name, table in self.tables.items()},
        }
        return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()

    @classmethod
    def from_bytes(cls, data: bytes, aliases: Mapping[str, str] | None = None) -> AggregateState:
        try:
            document = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise AggregateStateError(f"checkpoint is not JSON: {exc}") from exc
        if not isinstance(document, dict) or document.get("format") != FORMAT_VERSION:
            raise AggregateStateError(f"checkpoint format is not {FORMAT_VERSION}")
        state = cls(aliases)
        try:
            for name, table in document["channels"].items():
                if name not in state.tables:
                    raise AggregateStateError(f"checkpoint has unknown channel {name!r}")
                state.tables[name] = LatestByPublicId.load(table)
        except (KeyError, TypeError) as exc:
            raise AggregateStateError(f"checkpoint is malformed: {exc!r}") from exc
        logger.info("aggregate state restored: %d records", len(state))
        return state
