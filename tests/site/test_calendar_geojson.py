"""The meetings calendars parse as iCalendar, carry updates and cancellations; the recent
incidents GeoJSON follows RFC 7946 and holds only what the incidents dataset publishes."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pyarrow.parquet as pq
from icalendar import Calendar
from site_store import NOW, engagement, publish_store, write_feeds

from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.privacy.policy import load_policy
from openbeat.site import SitePublisher
from openbeat.site.calendar import event_uid


def _events(path: Path) -> dict[str, object]:
    calendar = Calendar.from_ical(path.read_bytes())
    return {str(e["UID"]): e for e in calendar.walk("VEVENT")}


def test_calendars_parse_with_stable_uids_and_cancellations(site_root: Path) -> None:
    events = _events(site_root / "feeds" / "meetings.ics")
    assert len(events) == 3
    cancelled = [e for e in events.values() if str(e["STATUS"]) == "CANCELLED"]  # type: ignore[index]
    assert len(cancelled) == 1
    d1 = _events(site_root / "feeds" / "districts" / "D1.ics")
    assert set(d1) < set(events) and len(d1) == 2
    assert event_uid("e" + "0" * 30 + "1") in d1


def test_a_new_time_updates_the_same_event(tmp_path: Path) -> None:
    j = load_jurisdiction("sample")
    store = publish_store(tmp_path)
    moved = engagement(1, NOW + timedelta(days=4), "D1", revision=2)
    write_feeds(store, j, [], [engagement(1, NOW + timedelta(days=2), "D1"), moved])
    SitePublisher(store, j, load_policy()).publish()
    events = _events(tmp_path / "feeds" / "meetings.ics")
    event = events[event_uid("e" + "0" * 30 + "1")]
    assert int(event["SEQUENCE"]) == 2  # type: ignore[index]
    assert event.decoded("DTSTART") == NOW + timedelta(days=4)  # type: ignore[attr-defined]


def test_recent_geojson_follows_rfc_7946(site_root: Path) -> None:
    doc = json.loads((site_root / "datasets" / "incidents" / "recent.geojson").read_text())
    assert doc["type"] == "FeatureCollection" and "crs" not in doc
    assert doc["features"]
    box = load_jurisdiction("sample").bbox
    for feature in doc["features"]:
        assert feature["type"] == "Feature"
        lon, lat = feature["geometry"]["coordinates"]
        assert feature["geometry"]["type"] == "Point"
        assert box.contains(lat, lon)  # longitude first, WGS 84


def test_recent_geojson_has_the_datasets_fields_and_rows_only(site_root: Path) -> None:
    release = next(site_root.glob("datasets/incidents/releases/*/data/part-00000.parquet"))
    table = pq.read_table(release)
    published = {r["public_id"]: r for r in table.to_pylist()}
    doc = json.loads((site_root / "datasets" / "incidents" / "recent.geojson").read_text())
    for feature in doc["features"]:
        props = feature["properties"]
        assert set(props) == set(table.schema.names)
        row = published[props["public_id"]]
        assert props["block"] == row["block"]
        assert row["location_precision"] != "district"
        assert feature["geometry"]["coordinates"] == [row["longitude"], row["latitude"]]
