"""Rendered feeds: valid RSS 2.0 / Atom / JSON Feed with the same items, capped, deterministic."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import feedparser
import pytest
from feed_records import NOW, D, H, absorb_all, engagement, incident, jurisdiction, new_state, rules

from openbeat.feeds.alerts import AlertState
from openbeat.feeds.objects import FeedObject, feed_objects
from openbeat.feeds.rules import SpikeRule

ATOM = "{http://www.w3.org/2005/Atom}"
GEORSS = "{http://www.georss.org/georss}"


def _state() -> AlertState:
    events: list[tuple[str, dict[str, Any]]] = [
        ("incident", incident("rob", NOW - 2 * H)),
        ("incident", incident("gun", NOW - 5 * H, category="weapons", district="D2", point=None)),
        ("incident", incident("sens", None, category="assault", occurred_date=NOW.date())),
        ("incident", incident("theft", NOW - 3 * H, category="theft")),
        ("engagement", engagement("m1", NOW + 2 * D)),
        ("engagement", engagement("m2", NOW + 4 * D, status="cancelled", district="D5")),
    ]
    events += [
        ("incident", incident(f"sp{i}", NOW - (i + 1) * H, category="theft", district="D3"))
        for i in range(5)
    ]
    return absorb_all(new_state(), events)


def _objects(state: AlertState, now: datetime = NOW, **update: Any) -> dict[str, FeedObject]:
    return {o.key: o for o in feed_objects(state, now, rules(**update), jurisdiction())}


@pytest.fixture(scope="module")
def objects() -> dict[str, FeedObject]:
    return _objects(_state())


def test_keys_content_types_and_cache_headers(objects: dict[str, FeedObject]) -> None:
    districts = {f"feeds/districts/{d.id}.rss" for d in jurisdiction().districts}
    assert set(objects) == {
        "feeds/alerts.rss",
        "feeds/alerts.atom",
        "feeds/alerts.json",
        "feeds/meetings.rss",
        "feeds/meetings.json",
        *districts,
    }
    types = {key.rsplit(".", 1)[1]: obj.content_type for key, obj in objects.items()}
    assert types == {
        "rss": "application/rss+xml",
        "atom": "application/atom+xml",
        "json": "application/feed+json",
    }
    assert {o.cache_control for o in objects.values()} == {rules().cache_control}


def test_every_xml_feed_parses_cleanly(objects: dict[str, FeedObject]) -> None:
    for key, obj in objects.items():
        if key.endswith(".json"):
            continue
        parsed = feedparser.parse(obj.data)
        assert not parsed.bozo, (key, parsed.get("bozo_exception"))
        assert parsed.version in ("rss20", "atom10"), key
        ET.fromstring(obj.data)  # strict XML parser too


def _rss_guids(data: bytes) -> list[str]:
    return [g.text or "" for g in ET.fromstring(data).iter("guid")]


def test_same_items_in_rss_atom_and_json(objects: dict[str, FeedObject]) -> None:
    rss = _rss_guids(objects["feeds/alerts.rss"].data)
    atom = [e.findtext(f"{ATOM}id") for e in ET.fromstring(objects["feeds/alerts.atom"].data)]
    atom = [a for a in atom if a is not None]
    items = json.loads(objects["feeds/alerts.json"].data)["items"]
    assert len(rss) == 4  # rob, gun, sens and the D3 spike; the theft is no alert
    assert rss == atom == [i["id"] for i in items]
    parsed = [e.title for e in feedparser.parse(objects["feeds/alerts.rss"].data).entries]
    assert parsed == [e.title for e in feedparser.parse(objects["feeds/alerts.atom"].data).entries]
    assert parsed == [i["title"] for i in items]


def test_district_feeds_hold_that_districts_alerts(objects: dict[str, FeedObject]) -> None:
    citywide = _rss_guids(objects["feeds/alerts.rss"].data)
    per_district = {k: _rss_guids(o.data) for k, o in objects.items() if "/districts/" in k}
    assert sorted(g for gs in per_district.values() for g in gs) == sorted(citywide)
    assert len(per_district["feeds/districts/D1.rss"]) == 2  # rob and sens
    assert per_district["feeds/districts/D4.rss"] == []


def test_rss_required_elements(objects: dict[str, FeedObject]) -> None:
    for key in ("feeds/alerts.rss", "feeds/meetings.rss", "feeds/districts/D1.rss"):
        root = ET.fromstring(objects[key].data)
        assert root.tag == "rss" and root.get("version") == "2.0"
        channel = root.find("channel")
        assert channel is not None
        for tag in ("title", "link", "description", "language", "lastBuildDate"):
            assert (channel.findtext(tag) or "").strip(), (key, tag)
        parsedate_to_datetime(channel.findtext("lastBuildDate") or "")
        [self_link] = channel.findall(f"{ATOM}link")
        assert self_link.get("rel") == "self"
        assert self_link.get("href") == rules().feed_url(key)
        items = channel.findall("item")
        assert items, key
        for item in items:
            for tag in ("title", "link", "description", "guid", "pubDate", "category"):
                assert (item.findtext(tag) or "").strip(), (key, tag)
            guid = item.find("guid")
            assert guid is not None and guid.get("isPermaLink") == "false"
            assert parsedate_to_datetime(item.findtext("pubDate") or "").tzinfo is not None


def test_georss_point_only_with_generalized_coordinates(objects: dict[str, FeedObject]) -> None:
    for key in ("feeds/alerts.rss", "feeds/alerts.atom"):
        root = ET.fromstring(objects[key].data)
        entries = root.iter("item") if key.endswith("rss") else root.iter(f"{ATOM}entry")
        points = [e.findtext(f"{GEORSS}point") for e in entries]
        # Only "rob" has a grid-cell point; "gun" has none, "sens" is district-only, spikes too.
        assert [p for p in points if p] == ["41.481200 -88.279700"], key
        assert len(points) == 4


def test_atom_required_elements(objects: dict[str, FeedObject]) -> None:
    feed = ET.fromstring(objects["feeds/alerts.atom"].data)
    assert feed.tag == f"{ATOM}feed"
    for tag in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{tag}") is not None, tag
    rels = {link.get("rel"): link.get("href") for link in feed.findall(f"{ATOM}link")}
    assert rels["self"] == rules().feed_url("feeds/alerts.atom")
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 4
    for entry in entries:
        for tag in ("id", "title", "updated", "published", "summary"):
            assert (entry.findtext(f"{ATOM}{tag}") or "").strip(), tag
        link = entry.find(f"{ATOM}link")
        assert link is not None and (link.get("href") or "").startswith(rules().base_url)
        assert entry.find(f"{ATOM}category") is not None
        datetime.fromisoformat(entry.findtext(f"{ATOM}updated") or "")


def test_json_feed_fields(objects: dict[str, FeedObject]) -> None:
    doc = json.loads(objects["feeds/alerts.json"].data)
    assert doc["version"] == "https://jsonfeed.org/version/1.1"
    assert doc["feed_url"] == rules().feed_url("feeds/alerts.json")
    assert doc["title"] and doc["home_page_url"] == jurisdiction().homepage
    for item in doc["items"]:
        assert {
            "id",
            "title",
            "content_text",
            "url",
            "date_published",
            "date_modified",
            "tags",
        } <= set(item)
        assert datetime.fromisoformat(item["date_published"]).tzinfo is not None


def test_at_most_100_items_newest_first() -> None:
    state = new_state()
    times = [NOW - k * H for k in range(150)]  # spread over 6+ days: all inside the alert age
    for n, at in enumerate(times):
        state.absorb_incident(incident(f"i{n:03}", at, district=f"D{n % 6 + 1}"))
    objects = _objects(state, spike=SpikeRule(min_count=10_000))
    entries = feedparser.parse(objects["feeds/alerts.rss"].data).entries
    assert len(entries) == 100
    published = [parsedate_to_datetime(e.published) for e in entries]
    assert published == sorted(times, reverse=True)[:100]
    assert len(json.loads(objects["feeds/alerts.json"].data)["items"]) == 100
    assert len(_rss_guids(objects["feeds/districts/D1.rss"].data)) == 25


def test_rendering_is_deterministic_and_stable_between_polls() -> None:
    first = _objects(_state())
    again = _objects(_state())
    assert {k: o.data for k, o in first.items()} == {k: o.data for k, o in again.items()}
    # Ten minutes later nothing changed, so not one byte changed (the publisher skips writes).
    later = _objects(_state(), NOW + 10 * 60 * H / 3600)
    assert {k: o.data for k, o in later.items()} == {k: o.data for k, o in first.items()}


def test_feed_date_is_never_in_the_future(objects: dict[str, FeedObject]) -> None:
    root = ET.fromstring(objects["feeds/meetings.rss"].data)
    built = parsedate_to_datetime(root.findtext("channel/lastBuildDate") or "")
    assert built <= NOW
    empty = ET.fromstring(objects["feeds/districts/D6.rss"].data)
    assert parsedate_to_datetime(empty.findtext("channel/lastBuildDate") or "") == datetime(
        2024, 3, 5, tzinfo=UTC
    )
