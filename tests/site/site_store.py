"""A small published store for the site tests: staged records, releases of every dataset, and
the feeds, built the way the services build them (stage_part, Releaser, feed_objects)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from openbeat.aggregate.state import AggregateState
from openbeat.contracts.jurisdiction import Jurisdiction, load_jurisdiction
from openbeat.feeds import feed_objects, load_alert_rules
from openbeat.feeds.alerts import AlertState
from openbeat.pipeline.aggregator import CHECKPOINT_KEY, channel_aliases
from openbeat.pipeline.releasing import Releaser
from openbeat.privacy.grid import snap
from openbeat.privacy.policy import load_policy
from openbeat.privacy.pseudonym import key_id
from openbeat.releases import stage_part
from openbeat.runtime.topics import TopicNames
from openbeat.store import LocalStore

NAMES = TopicNames("sitetest")
BASE_URL = "https://data.riverton.example"
CUTOFF = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
NOW = CUTOFF
CATEGORIES = ("theft", "burglary", "assault", "vandalism")
CODES = {"theft": "23H", "burglary": "220", "assault": "13B", "vandalism": "290"}


def incident(
    n: int, day: date, district: str, category: str, sensitive: bool = False
) -> dict[str, Any]:
    hour = datetime(day.year, day.month, day.day, 8 + n % 12, tzinfo=UTC)
    # As the anonymizer writes them (the release gate checks): hundred block, cell centre.
    lat, lon = snap(41.48125 + (n % 5) * 0.00225, -88.28125, 250)
    return {
        "public_id": f"{n:032x}",
        "revision": 1,
        "withdrawn": False,
        "category": category,
        "offense_code": CODES[category],
        "offense_count": 1,
        "offense_codes": [],
        "reported_date": day,
        "occurred_date": day,
        "occurred_hour": None if sensitive else hour,
        "block": None if sensitive else f"00{1 + n % 9}XX W MAIN ST",
        "district": district,
        "latitude": None if sensitive else lat,
        "longitude": None if sensitive else lon,
        "location_precision": "district" if sensitive else "block",
        "status": "open",
    }


# The names the site's city lists in its registry (`with_registry`): those of the events the
# releases publish (the cancelled one is in the feeds only).
REGISTRY_PARTNERS = ["PTA"]
REGISTRY_VENUES = ["Riverton Library"]


def engagement(
    n: int, starts: datetime, district: str, status: str = "scheduled", **extra: Any
) -> dict[str, Any]:
    record = {
        "public_id": f"e{n:031x}",
        "revision": 1,
        "withdrawn": False,
        "kind": "community_meeting",
        "status": status,
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=2),
        "district": district,
        "venue": "Riverton Library",
        "block": "001XX N OAK ST",
        "attendee_count": None,
        "partners": ["PTA"],
        "topics": ["cyber_safety", "drugs"],
    }
    record.update(extra)
    return record


def incidents(days: int = 70) -> list[dict[str, Any]]:
    out = []
    n = 0
    for back in range(days):
        day = CUTOFF.date() - timedelta(days=2 + back)
        for d, district in enumerate(("D1", "D2", "D3")):
            for c, category in enumerate(CATEGORIES):
                for _ in range((back + d + c) % 4 + (6 if c == 0 else 1)):
                    n += 1
                    out.append(incident(n, day, district, category, sensitive=(n % 17 == 0)))
    return out


def meetings() -> list[dict[str, Any]]:
    return [
        engagement(1, NOW + timedelta(days=2), "D1"),
        engagement(
            2, NOW + timedelta(days=5), "D2", status="cancelled", venue="<script>x</script> Hall"
        ),
        engagement(3, NOW + timedelta(days=3), "D1", kind="patrol_walk", topics=["traffic_safety"]),
    ]


def with_registry(j: Jurisdiction, root: Path) -> Jurisdiction:
    """`j` with a name registry that lists the partners and venues of `meetings()`, written
    beside `root`: the release gate refuses names the city's registry does not list."""
    path = root.parent / f"{root.name}-names.toml"
    path.write_text(
        f"partners = {json.dumps(REGISTRY_PARTNERS)}\nvenues = {json.dumps(REGISTRY_VENUES)}\n",
        encoding="utf-8",
    )
    # A new model, not model_copy: that would keep a registry already loaded (cached).
    return Jurisdiction.model_validate(j.model_dump() | {"names": str(path)})


def publish_store(root: Path, jurisdiction: Jurisdiction | None = None) -> LocalStore:
    """Stage, release every dataset, and write the feeds into a LocalStore at `root`."""
    store = LocalStore(root)
    private = LocalStore(root.parent / f"{root.name}-private", private=True)
    j = with_registry(jurisdiction or load_jurisdiction("sample"), root)
    staged = incidents()
    stage_part(
        private, "incidents", NAMES.public("incident"), 0, 0, len(staged) - 1, enumerate(staged)
    )
    events = meetings()
    stage_part(
        private, "engagements", NAMES.public("engagement"), 0, 0, len(events) - 1, enumerate(events)
    )
    state = AggregateState(aliases=channel_aliases(NAMES))
    for record in staged:
        state.add(NAMES.public("incident"), record)
    private.put(CHECKPOINT_KEY, state.to_bytes(), "application/json")
    releaser = Releaser(
        store=store,
        private=private,
        names=NAMES,
        jurisdiction=j,
        policy=load_policy(),
        base_url=BASE_URL,
        license_url=None,
        pseudonym_key_id=key_id(b"a-secret-pseudonym-key-for-tests"),
    )
    results = releaser.cut(releaser.enabled, CUTOFF)
    assert all(r.ok for r in results), [r.errors for r in results]
    write_feeds(store, j, staged[:60], events)
    return store


def write_feeds(
    store: LocalStore, j: Jurisdiction, records: list[dict[str, Any]], events: list[dict[str, Any]]
) -> None:
    rules = load_alert_rules(base_url=BASE_URL)
    alerts = AlertState(j.timezone)
    for record in records:
        alerts.absorb_incident(record)
    for i, event in enumerate(events):
        alerts.absorb_engagement(event, seen=(NOW - timedelta(days=3 - i)).timestamp())
    for obj in feed_objects(alerts, NOW, rules, j):
        store.put(obj.key, obj.data, obj.content_type, obj.cache_control)
