"""The words of each alert: titles, descriptions, links and categories of feed items.

Texts are built only from fields of the public records (already anonymized), so an item carries
nothing the privacy policy would not publish. Every word comes from the jurisdiction's message
catalogue (openbeat/messages.py): offense categories, statuses, kinds and topics as labels.
Times are shown on the jurisdiction's wall clock with the zone; a sensitive incident's time is
shown as its date only, as the dataset publishes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from openbeat.feeds.items import FeedItem, item_guid
from openbeat.feeds.rules import AlertRules
from openbeat.feeds.spikes import Spike
from openbeat.messages import Messages, load_messages, local_time

ENGLISH = load_messages("en")


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return local_time(moment, zone)


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _link(template: str, rules: AlertRules, **values: str) -> str:
    quoted = {k: quote(v, safe="") for k, v in values.items()}
    return template.format(base_url=rules.base_url, **quoted)


def incident_item(
    record: Mapping[str, Any],
    rules: AlertRules,
    names: Mapping[str, str],
    zone: ZoneInfo,
    m: Messages = ENGLISH,
    detailed: bool = True,
) -> FeedItem:
    """An alert for one incident in an alert category.

    Not `detailed` (younger than the publication delay): district, category and hour only.
    """
    district = record["district"]
    place_name = names.get(district, district)
    category = m.label("category", record["category"])
    block = record["block"] if detailed else None
    where = f"{block}, {place_name}" if block else place_name
    event = _at(record["t"])
    if record["occurred_hour"] is None:
        when = m.text("feed.occurred_on", date=record["occurred_date"])
    else:
        when = m.text("feed.occurred_around", time=_local(event, zone))
    status = ""
    if record["status"] and detailed:
        status = m.text("feed.status_sentence", status=m.label("status", record["status"]))
    point = None
    if detailed and record["latitude"] is not None and record["longitude"] is not None:
        point = (record["latitude"], record["longitude"])
    return FeedItem(
        guid=item_guid("incident", record["public_id"]),
        kind="incident",
        title=m.text("feed.incident_title", category=category, where=where),
        link=_link(rules.links.incident, rules, public_id=record["public_id"]),
        description=m.text(
            "feed.incident_description", category=category, where=where, when=when, status=status
        ),
        categories=("incident", record["category"]),
        published=event,
        updated=event,
        district=district,
        point=point,
        facts=record if detailed else _young_facts(record),
    )


# What an alert may say of an incident younger than the publication delay (issue 9, item 4):
# its id (for the page link), district, category and hour; nothing finer.
_YOUNG_FACTS = ("public_id", "district", "category", "occurred_date", "occurred_hour", "t")


def _young_facts(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in _YOUNG_FACTS if k in record}


def spike_item(
    spike: Spike,
    rules: AlertRules,
    names: Mapping[str, str],
    zone: ZoneInfo,
    m: Messages = ENGLISH,
) -> FeedItem:
    """An alert for a district whose incidents are far above its recent baseline.

    The guid is fixed by the district and the UTC day the spike started, so polls during one
    spike update the same item. The baseline itself is not quoted: a mean of a handful of
    incidents is a small count the policy would suppress.
    """
    rule = rules.spike
    place_name = names.get(spike.district, spike.district)
    day = spike.start.date().isoformat()
    description = m.text(
        "feed.spike_description",
        count=spike.count,
        district=place_name,
        hours=rule.window_hours,
        factor=f"{rule.factor:g}",
        days=rule.baseline_days,
        since=_local(spike.start, zone),
    )
    return FeedItem(
        guid=item_guid("spike", spike.district, day),
        kind="spike",
        title=m.text("feed.spike_title", district=place_name),
        link=_link(rules.links.spike, rules, district=spike.district, day=day),
        description=description,
        categories=("spike",),
        facts={"day": day, "count": spike.count},
        published=spike.start,
        updated=max(spike.start, spike.last_event),
        district=spike.district,
    )


def meeting_item(
    record: Mapping[str, Any],
    rules: AlertRules,
    names: Mapping[str, str],
    zone: ZoneInfo,
    m: Messages = ENGLISH,
) -> FeedItem:
    """An upcoming public engagement event; a cancellation or a new time updates the same item.

    Dated by its announcement (when it first reached the public topic), not its future start,
    so a reader lists it when it is news; `updated` moves with each new version.
    """
    district = record["district"]
    place_name = names.get(district, district)
    kind = m.label("kind", record["kind"])
    starts = _at(record["t"])
    venue = record["venue"] or place_name
    cancelled = record["status"] == "cancelled"
    announced = _at(record["announced"]) if record.get("announced") is not None else starts
    revised = _at(record["revised"]) if record.get("revised") is not None else announced
    title = m.text("feed.meeting_title", kind=kind, venue=venue, when=_local(starts, zone))
    if cancelled:
        title = m.text("feed.meeting_cancelled_title", title=title)
    place = venue if not record["block"] else f"{venue} ({record['block']})"
    span = _local(starts, zone)
    if record["ends_at"] is not None:
        ends = _local(datetime.fromisoformat(record["ends_at"]), zone)
        span = m.text("feed.meeting_span", start=span, end=ends)
    parts = [
        m.text("feed.meeting_description", kind=kind, district=place_name, place=place, span=span)
    ]
    if cancelled:
        parts.insert(0, m.text("feed.meeting_cancelled"))
    if record["topics"]:
        parts.append(m.text("feed.meeting_topics", topics=m.labels("topic", record["topics"])))
    if record["partners"]:
        parts.append(m.text("feed.meeting_partners", partners=m.partners(record["partners"])))
    return FeedItem(
        guid=item_guid("meeting", record["public_id"]),
        kind="meeting",
        title=title,
        link=_link(rules.links.meeting, rules, public_id=record["public_id"]),
        description=" ".join(parts),
        categories=("meeting", record["kind"]),
        published=announced,
        updated=max(announced, revised),
        district=district,
        facts=record,
    )
