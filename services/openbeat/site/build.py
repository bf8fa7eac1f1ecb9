"""`build_site`: the whole public site as `{key: bytes}`, a pure function of `SiteInputs`.

Pages: index.html, districts/<id>.html, datasets/<name>/index.html, incidents/<id>.html and
meetings/<id>.html (one per feed item, so every feed link resolves), the charts they show, the
meetings calendars and the recent-incidents GeoJSON. Everything a resident reads comes from the
jurisdiction's message catalogue. No clock is read: equal inputs give equal bytes, so a rebuild
after an unrelated change rewrites nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from openbeat.messages import Messages, load_messages, local_time
from openbeat.site.calendar import district_calendars
from openbeat.site.geo import GEOJSON_CONTENT_TYPE, recent_geojson
from openbeat.site.html import Frame, esc, items_list, page, rel
from openbeat.site.inputs import SiteInputs
from openbeat.site.pages import (
    GEOJSON_KEY,
    INDEX,
    dataset_page,
    dataset_pages,
    district_ics,
    district_page,
    district_pages,
    index_page,
    item_page,
)

logger = logging.getLogger(__name__)

ICS_CONTENT_TYPE = "text/calendar; charset=utf-8"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".ics": ICS_CONTENT_TYPE,
    ".geojson": GEOJSON_CONTENT_TYPE,
}


def content_type(key: str) -> str:
    for suffix, value in CONTENT_TYPES.items():
        if key.endswith(suffix):
            return value
    return "application/octet-stream"


def messages_for(inputs: SiteInputs) -> Messages:
    return load_messages(inputs.jurisdiction.language)


def build_site(inputs: SiteInputs) -> dict[str, bytes]:
    """Every object of the site, keyed by its store key."""
    j = inputs.jurisdiction
    m = messages_for(inputs)
    frame = Frame(
        messages=m,
        city=j.name,
        publisher=j.publisher,
        email=j.contact_email,
        nav=(
            (m.text("site.home"), INDEX),
            (m.text("site.datasets"), dataset_page("incidents")),
            (m.text("site.add_calendar"), "feeds/meetings.ics"),
        ),
    )
    out: dict[str, bytes] = {}
    index_page(inputs, frame, out)
    district_pages(inputs, frame, out)
    dataset_pages(inputs, frame, out)
    _item_pages(inputs, m, frame, out)
    out.update(district_calendars(inputs, m))
    out[GEOJSON_KEY] = recent_geojson(inputs)
    return out


def _at(text: Any) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(str(text).replace("Z", "+00:00"))


def _item_pages(inputs: SiteInputs, m: Messages, frame: Frame, out: dict[str, bytes]) -> None:
    """One page per feed incident and per feed meeting, so every feed link resolves."""
    zone = inputs.jurisdiction.zone
    names = {d.id: d.name for d in inputs.jurisdiction.districts}
    items: list[tuple[dict[str, Any], Any]] = [
        (item, _incident_body)
        for item in inputs.alerts
        if (item.get("_openbeat") or {}).get("item") == "incident"
    ]
    items += [(item, _meeting_body) for item in inputs.meetings]
    for item, body_of in items:
        path = item_page(item)
        if path is None:
            continue
        facts = item.get("_openbeat") or {}
        district = str(facts.get("district", ""))
        known = district if district in names else None
        title, body = body_of(m, zone, path, facts, known, names.get(district, district))
        out[path] = page(frame, path, title, body)


def _facts_table(rows: list[tuple[str, str]]) -> str:
    cells = "".join(
        f'<tr><th scope="row">{esc(k)}</th><td>{esc(v)}</td></tr>' for k, v in rows if v
    )
    return f"<table><tbody>{cells}</tbody></table>"


def _incident_body(
    m: Messages, zone: Any, path: str, facts: dict[str, Any], district: str | None, name: str
) -> tuple[str, str]:
    """(title, body) of an incident's page; `district` is None when it is not a known one."""
    category = m.label("category", facts.get("category"))
    where = f"{facts['block']}, {name}" if facts.get("block") else name
    hour = _at(facts.get("occurred_hour"))
    when = (
        local_time(hour, zone)
        if hour
        else m.text("site.date_only", date=facts.get("occurred_date"))
    )
    body = _facts_table(
        [
            (m.text("site.what"), category),
            (m.text("site.when"), when),
            (m.text("site.where"), where),
            (m.text("site.status"), m.label("status", facts.get("status"))),
        ]
    )
    links = [(rel(path, district_page(district)), name, "")] if district else []
    body += items_list(links, "")
    return m.text("site.incident_page_title", category=category, where=where), body


def _meeting_body(
    m: Messages, zone: Any, path: str, facts: dict[str, Any], district: str | None, name: str
) -> tuple[str, str]:
    """(title, body) of a meeting's page, with its calendar links."""
    kind = m.label("kind", facts.get("kind"))
    venue = facts.get("venue") or name
    starts, ends = _at(facts.get("starts_at")), _at(facts.get("ends_at"))
    body = ""
    if facts.get("status") == "cancelled":
        body += f'<p class="notice">{esc(m.text("site.cancelled_notice"))}</p>'
    place = f"{venue} ({facts['block']})" if facts.get("block") else str(venue)
    body += _facts_table(
        [
            (m.text("site.starts"), local_time(starts, zone) if starts else ""),
            (m.text("site.ends"), local_time(ends, zone) if ends else ""),
            (m.text("site.venue"), place),
            (m.text("site.district"), name),
            (m.text("site.status"), m.label("status", facts.get("status"))),
            (m.text("site.topics"), m.labels("topic", tuple(facts.get("topics") or ()))),
            (m.text("site.partners"), m.partners(facts.get("partners") or ())),
        ]
    )
    links = [(rel(path, "feeds/meetings.ics"), m.text("site.add_calendar"), "")]
    if district:
        links.append(
            (
                rel(path, district_ics(district)),
                m.text("site.add_district_calendar", district=name),
                "",
            )
        )
        links.append((rel(path, district_page(district)), name, ""))
    body += items_list(links, "")
    return m.text("site.meeting_page_title", kind=kind, venue=venue), body
