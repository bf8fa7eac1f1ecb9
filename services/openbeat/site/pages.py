"""The overview pages: the city at a glance (index.html), one page per district, one per dataset.

Pure functions of `SiteInputs` returning `{key: bytes}`; charts are separate SVG files next to
the pages, each page carrying the chart's text alternative and its numbers as a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow.compute as pc

from openbeat.messages import Messages, local_time
from openbeat.site import charts, stats
from openbeat.site.html import Frame, esc, figure, items_list, link, page, rel, table
from openbeat.site.inputs import DatasetView, SiteInputs

INDEX = "index.html"
GEOJSON_KEY = "datasets/incidents/recent.geojson"
MEETINGS_ICS = "feeds/meetings.ics"
ALERTS_RSS = "feeds/alerts.rss"
MEETINGS_RSS = "feeds/meetings.rss"
RECENT_ROWS = 200  # a district page lists at most this many recent incidents


def district_page(district_id: str) -> str:
    return f"districts/{district_id}.html"


def dataset_page(name: str) -> str:
    return f"datasets/{name}/index.html"


def district_feed(district_id: str) -> str:
    return f"feeds/districts/{district_id}.rss"


def district_ics(district_id: str) -> str:
    return f"feeds/districts/{district_id}.ics"


def item_page(item: dict[str, Any]) -> str | None:
    """The page of a feed item: incidents and meetings have one, spikes link their district."""
    facts = item.get("_openbeat") or {}
    kind = facts.get("item")
    if kind in ("incident", "meeting") and facts.get("public_id"):
        return f"{'incidents' if kind == 'incident' else 'meetings'}/{facts['public_id']}.html"
    if kind == "spike" and facts.get("district"):
        return district_page(str(facts["district"]))
    return None


def _chart_key(name: str) -> str:
    return f"charts/{name}.svg"


def _weekly_block(
    m: Messages, path: str, key: str, weeks: list[tuple[date, int]], out: dict[str, bytes]
) -> str:
    labels = [w.isoformat() for w, _ in weeks]
    values = [n for _, n in weeks]
    title = m.text("site.weekly_trend")
    out[key] = charts.line_chart(
        title, [w[5:] for w in labels], {title: values}, m.text("site.incidents")
    )
    alt = m.text(
        "site.weekly_trend_alt", first=labels[0], last=labels[-1], start=values[0], end=values[-1]
    )
    numbers = table(
        m.text("site.table_caption"),
        [m.text("site.week"), m.text("site.incidents")],
        zip(labels, values, strict=True),
        numeric=[1],
    )
    return f"<h2>{esc(title)}</h2>" + figure(
        rel(path, key), alt, title, numbers, m.text("site.data_table")
    )


def _window_cards(m: Messages, w: stats.Window) -> str:
    change = w.change_percent
    change_text = "–" if change is None else f"{change:+.0f} %"
    return (
        '<div class="cards">'
        f'<div class="card">{esc(m.text("site.last_28"))}<strong>{w.current}</strong>'
        f"{esc(w.start.isoformat())} – {esc(w.end.isoformat())}</div>"
        f'<div class="card">{esc(m.text("site.previous_28"))}<strong>{w.previous}</strong></div>'
        f'<div class="card">{esc(m.text("site.change"))}<strong>{esc(change_text)}</strong></div>'
        "</div>"
    )


def _alerts_list(m: Messages, path: str, items: Sequence[dict[str, Any]], limit: int) -> str:
    entries = []
    for item in items[:limit]:
        target = item_page(item)
        if target is None:
            continue
        entries.append((rel(path, target), str(item.get("title", "")), ""))
    return items_list(entries, m.text("site.no_alerts"))


def _meetings_list(m: Messages, path: str, items: Sequence[dict[str, Any]]) -> str:
    entries = []
    for item in sorted(items, key=lambda i: str((i.get("_openbeat") or {}).get("starts_at", ""))):
        target = item_page(item)
        if target is not None:
            entries.append((rel(path, target), str(item.get("title", "")), ""))
    return items_list(entries, m.text("site.no_meetings"))


def index_page(inputs: SiteInputs, frame: Frame, out: dict[str, bytes]) -> None:
    m = frame.messages
    j = inputs.jurisdiction
    names = {d.id: d.name for d in j.districts}
    body = [f"<p>{esc(m.text('site.tagline'))}</p>"]
    end = inputs.counts_end
    if end is not None:
        body.append(f"<p>{esc(m.text('site.release_cutoff', when=end.isoformat()))}</p>")
        body.append(_window_cards(m, stats.window(inputs.daily, end)))
        body.append(
            _weekly_block(m, INDEX, _chart_key("weekly"), stats.weekly(inputs.daily, end), out)
        )
        mix = stats.by_category(inputs.daily, end)
        if mix:
            title = m.text("site.category_mix")
            labels = [m.label("category", c) for c, _ in mix]
            values = [n for _, n in mix]
            out[_chart_key("categories")] = charts.bar_chart(title, labels, values)
            alt = m.text("site.category_mix_alt", top=labels[0], count=values[0])
            numbers = table(
                m.text("site.table_caption"),
                [m.text("site.category"), m.text("site.incidents")],
                zip(labels, values, strict=True),
                numeric=[1],
            )
            body.append(
                f"<h2>{esc(title)}</h2>"
                + figure(
                    rel(INDEX, _chart_key("categories")),
                    alt,
                    title,
                    numbers,
                    m.text("site.data_table"),
                )
            )
        body.append(f"<p>{esc(m.text('site.suppressed_note', k=inputs.k))}</p>")
    per_district = stats.by_district(inputs.daily, end) if end is not None else {}
    title = m.text("site.district_map")
    out[_chart_key("map")] = charts.district_map(title, j, per_district)
    top = max(j.districts, key=lambda d: (per_district.get(d.id, 0), d.id))
    alt = m.text(
        "site.district_map_alt",
        count=len(j.districts),
        top=top.name,
        value=per_district.get(top.id, 0),
    )
    rows = [(link(district_page(d.id), d.name), per_district.get(d.id, 0)) for d in j.districts]
    numbers = table(
        m.text("site.table_caption"),
        [m.text("site.district"), m.text("site.last_28")],
        rows,
        numeric=[1],
    )
    body.append(
        f"<h2>{esc(title)}</h2>"
        + figure(_chart_key("map"), alt, title, numbers, m.text("site.data_table"))
    )
    body.append(f"<h2>{esc(m.text('site.latest_alerts'))}</h2>")
    body.append(_alerts_list(m, INDEX, inputs.alerts, 10))
    body.append(f"<h2>{esc(m.text('site.upcoming_meetings'))}</h2>")
    body.append(_meetings_list(m, INDEX, inputs.meetings))
    body.append(_survey_block(m, inputs, out))
    body.append(_links_block(m, INDEX, inputs, names))
    out[INDEX] = page(frame, INDEX, m.text("site.title", city=j.name), "\n".join(body))


def _survey_block(m: Messages, inputs: SiteInputs, out: dict[str, bytes]) -> str:
    title = m.text("site.trust_trend")
    if len(inputs.survey) < 2:
        return f"<h2>{esc(title)}</h2><p>{esc(m.text('site.no_survey'))}</p>"
    weeks = [w for w, _, _ in inputs.survey]
    trust = [round(t, 2) for _, t, _ in inputs.survey]
    safety = [round(s, 2) for _, _, s in inputs.survey]
    key = _chart_key("trust")
    out[key] = charts.line_chart(
        title, weeks, {m.text("site.trust"): trust, m.text("site.safety"): safety}, "1-5", (1, 5)
    )
    alt = m.text("site.trust_trend_alt", first=weeks[0], last=weeks[-1])
    numbers = table(
        m.text("site.table_caption"),
        [m.text("site.week"), m.text("site.trust"), m.text("site.safety")],
        zip(weeks, trust, safety, strict=True),
        numeric=[1, 2],
    )
    return f"<h2>{esc(title)}</h2>" + figure(
        rel(INDEX, key), alt, title, numbers, m.text("site.data_table")
    )


def _links_block(m: Messages, path: str, inputs: SiteInputs, names: dict[str, str]) -> str:
    datasets = [
        (rel(path, dataset_page(v.name)), str(v.dictionary["title"]), "") for v in inputs.datasets
    ]
    feeds = [
        *(
            (rel(path, key), m.text(label), "")
            for key, label in (
                (ALERTS_RSS, "site.alerts_feed"),
                (MEETINGS_RSS, "site.meetings_feed"),
            )
            if key in inputs.feeds
        ),
        (rel(path, MEETINGS_ICS), m.text("site.add_calendar"), ""),
        (rel(path, GEOJSON_KEY), m.text("site.recent_map_data"), ""),
    ]
    districts = [(rel(path, district_page(i)), n, "") for i, n in sorted(names.items())]
    return (
        f"<h2>{esc(m.text('site.district_map'))}</h2>{items_list(districts, '')}"
        f"<h2>{esc(m.text('site.datasets'))}</h2>{items_list(datasets, '')}"
        f"<h2>{esc(m.text('site.feeds'))}</h2>{items_list(feeds, '')}"
    )


def _recent_rows(inputs: SiteInputs, district: str, limit: int) -> list[dict[str, Any]]:
    """The district's first `limit` recent incidents (newest first), as Python rows: only the
    rows the page shows are converted, not the city's whole 28 days."""
    t = inputs.recent
    if t is None:
        return []
    return t.filter(pc.equal(t["district"], district)).slice(0, limit).to_pylist()


def when_text(m: Messages, row: dict[str, Any], zone: Any) -> str:
    hour = row.get("occurred_hour")
    if hour is None:
        return m.text("site.date_only", date=row.get("occurred_date"))
    return local_time(hour, zone)


def district_pages(inputs: SiteInputs, frame: Frame, out: dict[str, bytes]) -> None:
    m = frame.messages
    j = inputs.jurisdiction
    cells = stats.by_district_cells(inputs.daily)
    first = min((day for day, *_ in inputs.daily), default=None)
    for d in j.districts:
        path = district_page(d.id)
        body = []
        end = inputs.counts_end
        if end is not None:
            mine = cells.get(d.id, [])
            body.append(_window_cards(m, stats.window(mine, end)))
            body.append(
                _weekly_block(
                    m,
                    path,
                    _chart_key(f"districts/{d.id}"),
                    stats.weekly(mine, end, first=first),
                    out,
                )
            )
        rows = [
            (
                when_text(m, r, j.zone),
                r.get("block") or d.name,
                m.label("category", r["category"]),
                m.label("status", r.get("status")),
            )
            for r in _recent_rows(inputs, d.id, RECENT_ROWS)
        ]
        body.append(
            f"<h2>{esc(m.text('site.recent_incidents'))}</h2><p>{esc(m.text('site.recent_incidents_note'))}</p>"
        )
        if rows:
            body.append(
                table(
                    m.text("site.recent_incidents"),
                    [
                        m.text("site.when"),
                        m.text("site.where"),
                        m.text("site.what"),
                        m.text("site.status"),
                    ],
                    rows,
                    css_class="incidents",  # releases/verify_site.py checks its blocks
                )
            )
        else:
            body.append(f"<p>{esc(m.text('site.no_incidents'))}</p>")
        alerts = [i for i in inputs.alerts if (i.get("_openbeat") or {}).get("district") == d.id]
        body.append(
            f"<h2>{esc(m.text('site.latest_alerts'))}</h2>" + _alerts_list(m, path, alerts, 20)
        )
        meetings = [
            i for i in inputs.meetings if (i.get("_openbeat") or {}).get("district") == d.id
        ]
        body.append(
            f"<h2>{esc(m.text('site.meetings_here', district=d.name))}</h2>"
            + _meetings_list(m, path, meetings)
        )
        feeds = [
            (
                rel(path, district_ics(d.id)),
                m.text("site.add_district_calendar", district=d.name),
                "",
            ),
        ]
        if district_feed(d.id) in inputs.feeds:
            rss = m.text("site.district_feed", district=d.name)
            feeds.insert(0, (rel(path, district_feed(d.id)), rss, ""))
        body.append(f"<h2>{esc(m.text('site.feeds'))}</h2>" + items_list(feeds, ""))
        out[path] = page(frame, path, d.name, "\n".join(body))


def dataset_pages(inputs: SiteInputs, frame: Frame, out: dict[str, bytes]) -> None:
    m = frame.messages
    for view in inputs.datasets:
        path = dataset_page(view.name)
        out[path] = page(
            frame,
            path,
            str(view.dictionary["title"]),
            _dataset_body(m, path, view, inputs.jurisdiction.zone),
        )


def _dataset_body(m: Messages, path: str, view: DatasetView, zone: ZoneInfo) -> str:
    entry = view.dictionary
    body = [f"<h2>{esc(m.text('site.description'))}</h2><p>{esc(entry['description'])}</p>"]
    if view.licence is not None:
        title, url = view.licence
        body.append(
            f'<h2>{esc(m.text("site.licence"))}</h2><p><a href="{esc(url)}">{esc(title)}</a></p>'
        )
    latest = view.latest
    body.append(f"<h2>{esc(m.text('site.last_release'))}</h2>")
    if latest is None:
        body.append(f"<p>{esc(m.text('site.not_released'))}</p>")
    else:
        cutoff = datetime.fromisoformat(str(latest["cutoff"]).replace("Z", "+00:00"))
        when = m.text("site.release_cutoff", when=local_time(cutoff, zone))
        rows = f"{m.text('site.row_count')}: {int(latest['rows'])}"
        body.append(f"<p>{esc(latest['release_id'])} · {esc(when)} · {esc(rows)}</p>")
        downloads = [
            (
                rel(path, f"datasets/{view.name}/latest/{f['path']}"),
                f["path"],
                f"{f['media_type']}, {f['bytes']} B",
            )
            for f in latest.get("files", [])
        ]
        downloads.append((rel(path, f"{latest['release']}manifest.json"), "manifest.json", ""))
        body.append(f"<h2>{esc(m.text('site.downloads'))}</h2>" + items_list(downloads, ""))
    columns = [(c["name"], c["type"], c["description"]) for c in entry["columns"]]
    body.append(
        table(
            m.text("site.dictionary"),
            [m.text("site.column"), m.text("site.type"), m.text("site.meaning")],
            columns,
        )
    )
    if view.preview:
        names = [c["name"] for c in entry["columns"]]
        body.append(table(m.text("site.preview"), names, view.preview))
    return "\n".join(body)
