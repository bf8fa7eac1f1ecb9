"""The feed objects of SPEC section 6: keys, bytes, content types and cache headers.

The alerter calls `feed_objects` after absorbing a batch and writes each object whose bytes
differ from what the store holds. Keys come only from fixed names and the jurisdiction's
validated district ids, never from event fields.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.feeds.alerts import AlertState
from openbeat.feeds.items import FeedItem
from openbeat.feeds.render import FeedMeta, render_atom, render_json_feed, render_rss
from openbeat.feeds.rules import AlertRules
from openbeat.messages import load_messages

logger = logging.getLogger(__name__)

RSS_TYPE = "application/rss+xml"
ATOM_TYPE = "application/atom+xml"
JSON_FEED_TYPE = "application/feed+json"

ALERTS_KEY = "feeds/alerts"
MEETINGS_KEY = "feeds/meetings.rss"
MEETINGS_JSON_KEY = "feeds/meetings.json"


def district_key(district_id: str) -> str:
    return f"feeds/districts/{district_id}.rss"


@dataclass(frozen=True, slots=True)
class FeedObject:
    """One object to put: `store.put(key, data, content_type, cache_control)`."""

    key: str
    data: bytes
    content_type: str
    cache_control: str


def feed_objects(
    state: AlertState,
    now: datetime,
    rules: AlertRules,
    jurisdiction: Jurisdiction,
    detail_through: date | None = None,
) -> list[FeedObject]:
    """Every feed object at `now`, in a fixed order (alerts, districts by id, meetings).

    `detail_through`: see `AlertState.items` (the policy's publication day)."""
    names = {d.id: d.name for d in jurisdiction.districts}
    messages = load_messages(jurisdiction.language)
    items = state.items(now, rules, names, messages, detail_through)
    # The rules' language tag (en-us) when it is the jurisdiction's language, else the latter.
    language = rules.language
    if language.split("-")[0].lower() != jurisdiction.language:
        language = jurisdiction.language
    unknown = sorted(set(items.districts) - jurisdiction.district_ids)
    if unknown:
        logger.warning("alert items in districts unknown to the jurisdiction: %s", unknown)

    def meta(key: str, title: str, description: str) -> FeedMeta:
        return FeedMeta(
            title=title,
            description=description,
            home_page_url=jurisdiction.homepage,
            feed_url=rules.feed_url(key),
            language=language,
            author=jurisdiction.publisher,
            now=now,
        )

    def obj(
        key: str,
        render: Callable[[FeedMeta, Sequence[FeedItem]], bytes],
        content_type: str,
        feed: FeedMeta,
        feed_items: Sequence[FeedItem],
    ) -> FeedObject:
        return FeedObject(key, render(feed, feed_items), content_type, rules.cache_control)

    titles = rules.titles
    city = jurisdiction.name
    out = []
    alerts_title = titles.text("alerts", messages, city=city)
    alerts_text = titles.text("alerts_description", messages, city=city)
    for ext, render, content_type in (
        ("rss", render_rss, RSS_TYPE),
        ("atom", render_atom, ATOM_TYPE),
        ("json", render_json_feed, JSON_FEED_TYPE),
    ):
        key = f"{ALERTS_KEY}.{ext}"
        out.append(
            obj(key, render, content_type, meta(key, alerts_title, alerts_text), items.alerts)
        )
    for district in sorted(jurisdiction.districts, key=lambda d: d.id):
        key = district_key(district.id)
        feed = meta(
            key,
            titles.text("district", messages, city=city, district=district.name),
            titles.text("district_description", messages, city=city, district=district.name),
        )
        out.append(obj(key, render_rss, RSS_TYPE, feed, items.district(district.id)))
    days = rules.meetings_horizon_days
    feed = meta(
        MEETINGS_KEY,
        titles.text("meetings", messages, city=city, days=days),
        titles.text("meetings_description", messages, city=city, days=days),
    )
    out.append(obj(MEETINGS_KEY, render_rss, RSS_TYPE, feed, items.meetings))
    # The same meetings as JSON Feed: the site's meeting pages and calendars are built from it.
    feed = meta(MEETINGS_JSON_KEY, feed.title, feed.description)
    out.append(obj(MEETINGS_JSON_KEY, render_json_feed, JSON_FEED_TYPE, feed, items.meetings))
    return out
