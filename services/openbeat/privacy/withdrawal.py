"""One path out: how a record leaves the public datasets, whatever the reason (issue 9, item 3).

A public record can stop being publishable because a later revision is withheld (juvenile,
confidential, sensitive with withhold on), unfounded (with `publish_unfounded` off), or no
longer public (an engagement made private). Every one of these leaves the same way: a public
*withdrawn marker* whose fields, except public_id and revision, are neutral constants, so the
marker never says why, nor anything about the record. And:

* **Nothing about a never-public id.** A marker is sent only when an earlier revision of the
  same event was public (`was_public`, kept with the revision in the anonymizer's changelog,
  see `pipeline.revisions`). A record withheld from its first revision on produces no public
  byte at all, whatever revisions follow.
* **Leaving never shows in the aggregates as a reason.** A record that was public and is now
  withheld is not counted as withheld afterwards (its restricted record is sent uncounted):
  otherwise a period sealed after the withdrawal would count it in a withheld part while an
  unfounded one would not, and comparing the two would say why it left. Periods sealed before
  the withdrawal keep counting it, as sealed figures never change.

`Output.when` (see `privacy.anonymize`) tags outputs that depend on `was_public`; the
anonymizer's revision check (`pipeline.anonymizer`) keeps or drops them with `keep`.
Marker rows carry valid values for every required column (offense_count 1, offense_codes []).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any, Literal, TypeVar

logger = logging.getLogger(__name__)

# Neutral constants of withdrawn markers: the same for every marker, so a marker carries nothing
# but "this public_id is gone". Readers drop withdrawn public_ids and never display markers.
WITHDRAWN_TEXT = "withdrawn"
WITHDRAWN_DATE = date(1970, 1, 1)
WITHDRAWN_TIME = datetime(1970, 1, 1, tzinfo=UTC)

_T = TypeVar("_T")

When = Literal["always", "was_public", "never_public", "was_seen"]
"""An output sent always, only if an earlier revision was public, only if none was, or only if
there was an earlier revision at all (accepted by the revision check)."""


def keep(when: When, was_public: bool, was_seen: bool = True) -> bool:
    """Whether an output tagged `when` is sent for an event whose earlier revisions were
    (`was_public`) or were not public, and of which an earlier revision was accepted
    (`was_seen`; an event with a public revision was seen)."""
    if when == "always":
        return True
    if when == "was_seen":
        return was_seen or was_public
    return was_public if when == "was_public" else not was_public


def incident_marker(public_id: str, revision: int, district: str) -> dict[str, Any]:
    """The public incident record retracting every earlier revision, carrying nothing else.

    `district` is the jurisdiction's neutral district (the same for every marker).
    """
    return {
        "public_id": public_id,
        "revision": revision,
        "withdrawn": True,
        "category": WITHDRAWN_TEXT,
        "offense_code": WITHDRAWN_TEXT,
        "offense_count": 1,
        "offense_codes": [],
        "reported_date": WITHDRAWN_DATE,
        "occurred_date": WITHDRAWN_DATE,
        "occurred_hour": None,
        "block": None,
        "district": district,
        "latitude": None,
        "longitude": None,
        "location_precision": "district",
        "status": WITHDRAWN_TEXT,
    }


def engagement_marker(public_id: str, revision: int, district: str) -> dict[str, Any]:
    """The public engagement record retracting an event that is no longer public."""
    return {
        "public_id": public_id,
        "revision": revision,
        "withdrawn": True,
        "kind": WITHDRAWN_TEXT,
        "status": WITHDRAWN_TEXT,
        "starts_at": WITHDRAWN_TIME,
        "ends_at": None,
        "district": district,
        "venue": None,
        "block": None,
        "attendee_count": None,
        "partners": [],
        "topics": [],
    }


def is_marker(record: dict[str, Any]) -> bool:
    """True for a withdrawn marker (readers drop its public_id from every dataset)."""
    return bool(record.get("withdrawn"))


def resolve(outputs: Iterable[_T], was_public: bool, was_seen: bool = True) -> list[_T]:
    """The outputs (anything with a `when`) sent for an event with that history."""
    return [o for o in outputs if keep(getattr(o, "when", "always"), was_public, was_seen)]
