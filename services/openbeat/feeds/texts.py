"""The words of each alert: titles, descriptions, links and categories of feed items.

Texts are built only from fields of the public records (already anonymized), so an item carries
nothing the privacy policy would not publish. Times are shown on the jurisdiction's wall clock;
a sensitive incident's time is shown as its date only, as the dataset publishes it.
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


def _label(name: str) -> str:
    """`motor_vehicle_theft` -> `Motor vehicle theft`."""
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _link(template: str, rules: AlertRules, **values: str) -> str:
    quoted = {k: quote(v, safe="") for k, v in values.items()}
    return template.format(base_url=rules.base_url, **quoted)


def incident_item(
    record: Mapping[str, Any], rules: AlertRules, names: Mapping[str, str], zone: ZoneInfo
) -> FeedItem:
    """An alert for one incident in an alert category."""
    district = record["district"]
    place_name = names.get(district, district)
    category = _label(record["category"])
    block = record["block"]
    where = f"{block}, {place_name}" if block else place_name
    event = _at(record["t"])
    if record["occurred_hour"] is None:
        when = f"on {record['occurred_date']}"
    else:
        when = f"around {_local(event, zone)}"
    code = f" (NIBRS {record['offense_code']})" if record["offense_code"] else ""
    status = f" Status: {record['status'].replace('_', ' ')}." if record["status"] else ""
    point = None
    if record["latitude"] is not None and record["longitude"] is not None:
        point = (record["latitude"], record["longitude"])
    return FeedItem(
        guid=item_guid("incident", record["public_id"]),
        kind="incident",
        title=f"{category}: {where}",
        link=_link(rules.links.incident, rules, public_id=record["public_id"]),
        description=f"{category}{code} at {where}, occurred {when}.{status}",
        categories=("incident", record["category"]),
        published=event,
        updated=event,
        district=district,
        point=point,
        facts=record,
    )


def spike_item(
    spike: Spike, rules: AlertRules, names: Mapping[str, str], zone: ZoneInfo
) -> FeedItem:
    """An alert for a district whose incidents are far above its recent baseline.

    The guid is fixed by the district and the UTC day the spike started, so polls during one
    spike update the same item. The baseline itself is not quoted: a mean of a handful of
    incidents is a small count the policy would suppress.
    """
    rule = rules.spike
    place_name = names.get(spike.district, spike.district)
    day = spike.start.date().isoformat()
    description = (
        f"{spike.count} incidents in {place_name} in the last {rule.window_hours} hours, "
        f"at least {rule.factor:g} times the usual for the previous {rule.baseline_days} days. "
        f"Elevated since {_local(spike.start, zone)}."
    )
    return FeedItem(
        guid=item_guid("spike", spike.district, day),
        kind="spike",
        title=f"Rise in incidents: {place_name}",
        link=_link(rules.links.spike, rules, district=spike.district, day=day),
        description=description,
        categories=("spike",),
        facts={"day": day, "count": spike.count},
        published=spike.start,
        updated=max(spike.start, spike.last_event),
        district=spike.district,
    )


def meeting_item(
    record: Mapping[str, Any], rules: AlertRules, names: Mapping[str, str], zone: ZoneInfo
) -> FeedItem:
    """An upcoming public engagement event; a cancellation or a new time updates the same item."""
    district = record["district"]
    place_name = names.get(district, district)
    kind = _label(record["kind"])
    starts = _at(record["t"])
    venue = record["venue"] or place_name
    cancelled = record["status"] == "cancelled"
    announced = _at(record["announced"]) if record.get("announced") is not None else starts
    revised = _at(record["revised"]) if record.get("revised") is not None else announced
    title = f"{kind}: {venue}, {_local(starts, zone)}"
    if cancelled:
        title = f"Cancelled: {title}"
    place = venue if not record["block"] else f"{venue} ({record['block']})"
    span = _local(starts, zone)
    if record["ends_at"] is not None:
        span += f" to {_local(datetime.fromisoformat(record['ends_at']), zone)}"
    parts = [f"{kind} in {place_name} at {place}, {span}."]
    if cancelled:
        parts.insert(0, "This event has been cancelled.")
    if record["topics"]:
        parts.append(f"Topics: {', '.join(record['topics'])}.")
    if record["partners"]:
        parts.append(f"With: {', '.join(record['partners'])}.")
    return FeedItem(
        guid=item_guid("meeting", record["public_id"]),
        kind="meeting",
        title=title,
        link=_link(rules.links.meeting, rules, public_id=record["public_id"]),
        description=" ".join(parts),
        categories=("meeting", record["kind"]),
        # Dated by its announcement (first seen on the public topic), not its future start.
        published=announced,
        updated=max(announced, revised),
        district=district,
        facts=record,
    )
