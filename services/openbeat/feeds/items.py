"""Feed items: what every feed format carries, independent of RSS, Atom or JSON Feed.

Items are plain frozen values so the same list renders to all three formats and tests can compare
them directly. Guids are `urn:uuid:` UUIDv5 names of what the item is about (an incident's public
id, a district's spike day, a meeting's public id), so they are valid Atom ids, opaque, and do not
change when the base URL or the wording does.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

# A fixed namespace for openbeat's item guids; changing it would give every item a new guid and
# make every reader show every alert again, so it never changes.
GUID_NAMESPACE = uuid.UUID("6f1d3c2e-8a4b-5c7d-9e0f-0b1e2d3c4f5a")


def item_guid(kind: str, *parts: str) -> str:
    """A stable opaque guid for an item of `kind` identified by `parts`."""
    name = "\x1f".join((kind, *parts))
    return f"urn:uuid:{uuid.uuid5(GUID_NAMESPACE, name)}"


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One item of a feed. Texts are plain text; renderers escape them for their format."""

    guid: str
    kind: str  # "incident", "spike" or "meeting"
    title: str
    link: str
    description: str
    categories: tuple[str, ...]
    published: datetime  # the item's event time (UTC)
    updated: datetime  # UTC
    district: str
    # (lat, lon) of a generalized grid-cell centre, only when the public record carries one.
    point: tuple[float, float] | None = None
    # The public fields the item was written from (JSON Feed `_openbeat`): what the site's
    # incident and meeting pages and calendars are built from. Never more than the record.
    facts: Mapping[str, Any] | None = field(default=None, compare=False)


def newest_first(items: Iterable[FeedItem], limit: int) -> tuple[FeedItem, ...]:
    """Items sorted newest first with a total order (ties broken by updated, then guid)."""
    ordered = sorted(
        items, key=lambda i: (-i.published.timestamp(), -i.updated.timestamp(), i.guid)
    )
    return tuple(ordered[:limit])


@dataclass(frozen=True, slots=True)
class FeedItems:
    """The current items of every feed, each already capped and sorted newest first."""

    alerts: tuple[FeedItem, ...]
    meetings: tuple[FeedItem, ...]
    districts: Mapping[str, tuple[FeedItem, ...]] = field(default_factory=dict)

    def district(self, district_id: str) -> tuple[FeedItem, ...]:
        """The alerts of one district (empty when it has none)."""
        return self.districts.get(district_id, ())
