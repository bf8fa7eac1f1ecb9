"""Render feed items as RSS 2.0, Atom (RFC 4287) and JSON Feed 1.1 bytes.

Every text goes through `clean_text` (characters XML 1.0 forbids are removed) and is then escaped
by ElementTree or json, never pasted into markup. RSS readers treat `title` and `description`
as HTML, so there the plain text is HTML-escaped first (`<` becomes `&amp;lt;` on the wire) and a
venue called `<script>` shows as that text instead of running; Atom says `type="text"` and JSON
Feed uses `content_text`, so those carry the plain text escaped once.

Output is byte-deterministic: the feed's date comes from the items (see `feed_updated`), not the
wall clock, so an unchanged feed renders to the same bytes and the publisher can skip the write.
"""

from __future__ import annotations

import html
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from openbeat.feeds.items import FeedItem

ATOM_NS = "http://www.w3.org/2005/Atom"
GEORSS_NS = "http://www.georss.org/georss"
JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
GENERATOR = "openbeat"

# Namespaces are declared on the root by hand and prefixed names written literally: ElementTree's
# own namespace handling needs process-wide prefix registration and cannot serialize Atom (a
# default namespace with unprefixed attributes).

# XML 1.0 Char is #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF].
# DEL and the C1 controls (#x7F-#x9F) are allowed but "discouraged" by the spec and never belong
# in a title, so they go too. Lone surrogates fall in the excluded #xD800-#xDFFF range.
_NOT_XML_CHAR = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NEWLINES = re.compile(r"\r\n?")


def clean_text(text: str) -> str:
    """Text without characters XML 1.0 forbids (or discourages), with newlines as `\\n`."""
    return _NEWLINES.sub("\n", _NOT_XML_CHAR.sub("", text))


def one_line(text: str) -> str:
    """A cleaned title: every run of whitespace (newlines included) becomes one space."""
    return " ".join(clean_text(text).split())


@dataclass(frozen=True, slots=True)
class FeedMeta:
    """What a feed says about itself."""

    title: str
    description: str
    home_page_url: str
    feed_url: str
    language: str
    author: str
    now: datetime  # the time the feed is built for; see feed_updated


def feed_updated(meta: FeedMeta, items: Sequence[FeedItem]) -> datetime:
    """The feed's lastBuildDate / updated, a function of the items and `meta.now` only.

    The newest item's `updated`, but never later than the start of the current hour (meetings
    are dated by their future start, and a feed should not claim to be built in the future);
    an empty feed is dated the start of the current UTC day. Either way the date moves at most
    once an hour while the items stay the same, so unchanged feeds keep their bytes.
    """
    now = meta.now.astimezone(UTC)
    if not items:
        return datetime(now.year, now.month, now.day, tzinfo=UTC)
    hour = now.replace(minute=0, second=0, microsecond=0)
    return min(max(i.updated for i in items).astimezone(UTC), hour)


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rfc822(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def _point(item: FeedItem) -> str | None:
    if item.point is None:
        return None
    lat, lon = item.point
    return f"{lat:.6f} {lon:.6f}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: clean_text(v) for k, v in attrs.items()})
    if text is not None:
        element.text = clean_text(text)
    return element


def _html(text: str) -> str:
    """Plain text as the HTML RSS readers expect in title and description."""
    return html.escape(clean_text(text), quote=False)


def _xml_bytes(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    body = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n").encode("utf-8")


def render_rss(meta: FeedMeta, items: Sequence[FeedItem]) -> bytes:
    """RSS 2.0 with atom:link rel=self, opaque guids, RFC 822 dates and GeoRSS points."""
    rss = ET.Element("rss", {"version": "2.0", "xmlns:atom": ATOM_NS, "xmlns:georss": GEORSS_NS})
    channel = _sub(rss, "channel")
    _sub(channel, "title", _html(one_line(meta.title)))
    _sub(channel, "link", meta.home_page_url)
    _sub(channel, "description", _html(meta.description))
    _sub(channel, "language", meta.language)
    _sub(channel, "lastBuildDate", rfc822(feed_updated(meta, items)))
    _sub(channel, "generator", GENERATOR)
    _sub(
        channel,
        "atom:link",
        href=meta.feed_url,
        rel="self",
        type="application/rss+xml",
    )
    for item in items:
        element = _sub(channel, "item")
        _sub(element, "title", _html(one_line(item.title)))
        _sub(element, "link", item.link)
        _sub(element, "description", _html(item.description))
        _sub(element, "guid", item.guid, isPermaLink="false")
        _sub(element, "pubDate", rfc822(item.published))
        for category in item.categories:
            _sub(element, "category", one_line(category))
        point = _point(item)
        if point is not None:
            _sub(element, "georss:point", point)
    return _xml_bytes(rss)


def render_atom(meta: FeedMeta, items: Sequence[FeedItem]) -> bytes:
    """Atom 1.0 (RFC 4287): the same items, plain text marked `type="text"`."""
    feed = ET.Element(
        "feed",
        {"xmlns": ATOM_NS, "xmlns:georss": GEORSS_NS, "xml:lang": clean_text(meta.language)},
    )
    _sub(feed, "id", meta.feed_url)
    _sub(feed, "title", one_line(meta.title), type="text")
    _sub(feed, "subtitle", meta.description, type="text")
    _sub(feed, "updated", rfc3339(feed_updated(meta, items)))
    _sub(feed, "link", rel="self", href=meta.feed_url, type="application/atom+xml")
    _sub(feed, "link", rel="alternate", href=meta.home_page_url, type="text/html")
    author = _sub(feed, "author")
    _sub(author, "name", one_line(meta.author))
    _sub(feed, "generator", GENERATOR)
    for item in items:
        entry = _sub(feed, "entry")
        _sub(entry, "id", item.guid)
        _sub(entry, "title", one_line(item.title), type="text")
        _sub(entry, "updated", rfc3339(item.updated))
        _sub(entry, "published", rfc3339(item.published))
        _sub(entry, "link", rel="alternate", href=item.link)
        _sub(entry, "summary", item.description, type="text")
        for category in item.categories:
            _sub(entry, "category", term=one_line(category))
        point = _point(item)
        if point is not None:
            _sub(entry, "georss:point", point)
    return _xml_bytes(feed)


def _facts(item: FeedItem) -> dict[str, Any]:
    """The item's public facts (JSON Feed extension `_openbeat`, see jsonfeed.org/version/1.1)."""
    facts = {k: _clean(v) for k, v in (item.facts or {}).items() if k not in ("t", "withdrawn")}
    return {**facts, "item": item.kind, "district": clean_text(item.district)}


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def render_json_feed(meta: FeedMeta, items: Sequence[FeedItem]) -> bytes:
    """JSON Feed 1.1: the same items, plain text in `content_text`."""
    doc = {
        "version": JSON_FEED_VERSION,
        "title": one_line(meta.title),
        "home_page_url": clean_text(meta.home_page_url),
        "feed_url": clean_text(meta.feed_url),
        "description": clean_text(meta.description),
        "language": clean_text(meta.language),
        "authors": [{"name": one_line(meta.author)}],
        "items": [
            {
                "id": clean_text(item.guid),
                "url": clean_text(item.link),
                "title": one_line(item.title),
                "content_text": clean_text(item.description),
                "date_published": rfc3339(item.published),
                "date_modified": rfc3339(item.updated),
                "tags": [one_line(c) for c in item.categories],
                **({"_openbeat": _facts(item)} if item.facts is not None else {}),
            }
            for item in items
        ],
    }
    return (json.dumps(doc, ensure_ascii=False, indent=2) + "\n").encode("utf-8")
