"""Hostile text in venue names, blocks and categories: escaped everywhere, never markup."""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import feedparser
from feed_records import NOW, D, H, engagement, incident, jurisdiction, new_state, rules
from hypothesis import given, settings
from hypothesis import strategies as st

from openbeat.feeds.items import FeedItem
from openbeat.feeds.objects import FeedObject, feed_objects
from openbeat.feeds.render import FeedMeta, render_atom, render_json_feed, render_rss

NASTY = (
    'Hall <script>alert("x")</script> &amp; ]]> <![CDATA[ y ]]> '
    "\x00\x01\x08\x0b\x0c\x1b\x7f\x85 \ud800 \udfff \ufffe\uffff 😀 café\ttab <b>bold</b>"
)


def _xml_char(c: str) -> bool:
    """XML 1.0 Char, minus DEL and C1 controls (written independently of the renderer)."""
    cp = ord(c)
    return (
        cp in (0x9, 0xA, 0xD)
        or 0x20 <= cp <= 0x7E
        or 0xA0 <= cp <= 0xD7FF
        or 0xE000 <= cp <= 0xFFFD
        or cp >= 0x10000
    )


def shown(text: str) -> str:
    """What a reader should display for `text` in a title: valid characters, one line."""
    return " ".join("".join(c for c in text if _xml_char(c)).split())


def _hostile_objects() -> dict[str, FeedObject]:
    state = new_state()
    state.absorb_engagement(engagement("m", NOW + 2 * D, venue=NASTY, topics=(NASTY,)))
    state.absorb_incident(incident("i", NOW - H, block=NASTY, category="robbery"))
    state.absorb_incident(incident("c", NOW - 2 * H, category=NASTY))
    rule = rules(categories=("robbery", NASTY))
    return {o.key: o for o in feed_objects(state, NOW, rule, jurisdiction())}


def _html_text(value: str) -> str:
    """The text an HTML-rendering reader shows; the value must hold no markup at all."""
    assert "<" not in value and ">" not in value, value
    return html.unescape(value)


def test_hostile_text_is_escaped_in_every_format() -> None:
    objects = _hostile_objects()
    expected = shown(NASTY)
    assert "<script>" in expected and "]]>" in expected and "😀" in expected
    for key, obj in objects.items():
        if key.endswith(".json"):
            continue
        assert b"<script" not in obj.data and b"<b>" not in obj.data, key
        tags = {element.tag for element in ET.fromstring(obj.data).iter()}
        assert not {"script", "b"} & tags, key
        parsed = feedparser.parse(obj.data)
        assert not parsed.bozo, (key, parsed.get("bozo_exception"))

    rss = feedparser.parse(objects["feeds/meetings.rss"].data).entries
    assert expected in _html_text(rss[0].title)
    assert expected in " ".join(_html_text(rss[0].summary).split())

    alerts = feedparser.parse(objects["feeds/alerts.rss"].data).entries
    assert any(expected in _html_text(e.title) for e in alerts)  # the block
    assert any(expected in {t.term for t in e.tags} for e in alerts)  # the category

    atom = feedparser.parse(objects["feeds/alerts.atom"].data).entries
    assert all(e.title_detail.type == "text/plain" for e in atom)
    assert any(expected in e.title for e in atom)
    assert any(expected in {t.term for t in e.tags} for e in atom)

    items = json.loads(objects["feeds/alerts.json"].data)["items"]
    assert any(expected in i["title"] for i in items)
    assert any(expected in i["tags"] for i in items)
    description = next(i["content_text"] for i in items if expected in i["title"])
    assert "".join(c for c in NASTY if _xml_char(c)) in description  # tab kept in plain text


def _item(title: str, description: str, category: str) -> FeedItem:
    at = datetime(2024, 3, 5, 12, tzinfo=UTC)
    return FeedItem(
        guid="urn:uuid:00000000-0000-5000-8000-000000000000",
        kind="incident",
        title=title,
        link="https://data.example/incidents/x",
        description=description,
        categories=(category,),
        published=at,
        updated=at,
        district="D1",
    )


META = FeedMeta(
    title="Alerts",
    description="Test feed",
    home_page_url="https://data.example",
    feed_url="https://data.example/feeds/alerts.rss",
    language="en-us",
    author="Test",
    now=datetime(2024, 3, 5, 18, tzinfo=UTC),
)


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40), st.text(max_size=40), st.text(min_size=1, max_size=10))
def test_any_text_renders_to_well_formed_feeds(title: str, description: str, tag: str) -> None:
    item = _item(title, description, tag)
    rss = ET.fromstring(render_rss(META, [item]))
    atom = ET.fromstring(render_atom(META, [item]))
    doc = json.loads(render_json_feed(META, [item]))
    a = "{http://www.w3.org/2005/Atom}"
    assert (atom.findtext(f"{a}entry/{a}title") or "") == shown(title)
    assert html.unescape(rss.findtext("channel/item/title") or "") == shown(title)
    assert doc["items"][0]["title"] == shown(title)
    # Descriptions keep their line breaks; only invalid characters go (CR/CRLF become LF).
    kept = "".join(c for c in description if _xml_char(c))
    kept = kept.replace("\r\n", "\n").replace("\r", "\n")
    assert doc["items"][0]["content_text"] == kept
    assert (atom.findtext(f"{a}entry/{a}summary") or "") == kept
