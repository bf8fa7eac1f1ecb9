"""Meetings as iCalendar (RFC 5545): `feeds/meetings.ics` and one calendar per district.

Built with the `icalendar` library (well kept, used by CalDAV servers; it handles folding,
escaping and the value types so none of that is hand-written here). Each event's UID is fixed by
the meeting's public id, its SEQUENCE is the meeting's revision, so a calendar that subscribed
sees a new time as an update of the same event and a cancellation as STATUS:CANCELLED instead of
a duplicate. DTSTAMP is the item's last modification, never the wall clock, so unchanged
meetings give unchanged bytes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from icalendar import Calendar, Event

from openbeat.messages import Messages
from openbeat.site.inputs import SiteInputs

PRODID = "-//openbeat//transparency site//EN"
UID_DOMAIN = "openbeat"


def _at(text: Any) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def event_uid(public_id: str) -> str:
    return f"meeting-{public_id}@{UID_DOMAIN}"


def _event(m: Messages, item: dict[str, Any], names: dict[str, str]) -> Event | None:
    facts = item.get("_openbeat") or {}
    starts = _at(facts.get("starts_at"))
    if not facts.get("public_id") or starts is None:
        return None
    district = str(facts.get("district", ""))
    venue = facts.get("venue") or names.get(district, district)
    event = Event()
    event.add("uid", event_uid(str(facts["public_id"])))
    event.add("sequence", int(facts.get("revision") or 0))
    event.add("dtstamp", _at(item.get("date_modified")) or starts)
    event.add("dtstart", starts)
    ends = _at(facts.get("ends_at"))
    if ends is not None:
        event.add("dtend", ends)
    event.add("summary", f"{m.label('kind', facts.get('kind'))}: {venue}")
    place = f"{venue} ({facts['block']})" if facts.get("block") else str(venue)
    event.add("location", place)
    event.add("description", str(item.get("content_text", "")))
    if item.get("url"):
        event.add("url", str(item["url"]))
    cancelled = facts.get("status") == "cancelled"
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def render_calendar(
    m: Messages, name: str, items: list[dict[str, Any]], names: dict[str, str]
) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    ordered = sorted(
        items, key=lambda i: (str((i.get("_openbeat") or {}).get("starts_at")), str(i.get("id")))
    )
    for item in ordered:
        event = _event(m, item, names)
        if event is not None:
            calendar.add_component(event)
    return calendar.to_ical()


def district_calendars(inputs: SiteInputs, m: Messages) -> dict[str, bytes]:
    """feeds/meetings.ics and feeds/districts/<id>.ics (every district, empty ones too)."""
    j = inputs.jurisdiction
    names = {d.id: d.name for d in j.districts}
    meetings = list(inputs.meetings)
    out = {
        "feeds/meetings.ics": render_calendar(m, m.text("site.upcoming_meetings"), meetings, names)
    }
    for d in j.districts:
        mine = [i for i in meetings if (i.get("_openbeat") or {}).get("district") == d.id]
        title = f"{m.text('site.meetings_here', district=d.name)}"
        out[f"feeds/districts/{d.id}.ics"] = render_calendar(m, title, mine, names)
    return out
