"""The site as a resident meets it: every page type exists, every link resolves, plain words."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from links import broken_links, resolve
from site_store import BASE_URL, publish_store

from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.privacy.policy import load_policy
from openbeat.site import SitePublisher, build_site, read_inputs
from openbeat.store import LocalStore


def test_every_page_type_is_published(site_root: Path) -> None:
    assert (site_root / "index.html").is_file()
    for district in load_jurisdiction("sample").districts:
        assert (site_root / "districts" / f"{district.id}.html").is_file()
    for dataset in ("incidents", "incident-counts", "engagement-events", "offense-codes"):
        assert (site_root / "datasets" / dataset / "index.html").is_file()
    assert list((site_root / "incidents").glob("*.html"))
    assert list((site_root / "meetings").glob("*.html"))
    assert (site_root / "charts" / "map.svg").is_file()


def test_no_broken_internal_link_in_the_whole_public_root(site_root: Path) -> None:
    assert broken_links(site_root, BASE_URL) == []


def test_every_feed_item_link_resolves_to_a_page(site_root: Path) -> None:
    links = []
    for feed in site_root.joinpath("feeds").rglob("*.rss"):
        links += [e.text or "" for e in ET.parse(feed).getroot().iter("link")]
    for feed in site_root.joinpath("feeds").glob("*.json"):
        links += [item["url"] for item in json.loads(feed.read_text())["items"]]
    item_links = [
        link for link in links if link.startswith(BASE_URL + "/") and link.endswith(".html")
    ]
    assert len(item_links) > 10
    for link in item_links:
        key = resolve(site_root, "index.html", link, BASE_URL)
        assert key is not None and (site_root / key).is_file(), link


def test_charts_carry_a_text_alternative_and_their_numbers(site_root: Path) -> None:
    index = (site_root / "index.html").read_text()
    images = re.findall(r'<img src="([^"]+)" alt="([^"]*)"', index)
    assert {src for src, _ in images} >= {
        "charts/weekly.svg",
        "charts/categories.svg",
        "charts/map.svg",
    }
    assert all(len(alt) > 20 for _, alt in images)
    assert index.count("<details><summary>") == len(images)


def test_residents_read_words_not_codes(site_root: Path) -> None:
    meeting = next(
        p.read_text()
        for p in (site_root / "meetings").glob("*.html")
        if "Online safety" in p.read_text()
    )
    assert "cyber_safety" not in meeting
    assert "Community meeting" in meeting and "community_meeting" not in meeting
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d CST", meeting)
    index = (site_root / "index.html").read_text()
    assert "Downtown" in index and ">Theft<" in index


def test_hostile_text_is_shown_not_run(site_root: Path) -> None:
    pages = "".join(p.read_text() for p in (site_root / "meetings").glob("*.html"))
    assert "<script>" not in pages
    assert "&lt;script&gt;x&lt;/script&gt; Hall" in pages
    assert "This event has been cancelled." in pages


def test_a_rebuild_with_the_same_inputs_writes_nothing(site_store: LocalStore) -> None:
    publisher = SitePublisher(site_store, load_jurisdiction("sample"), load_policy())
    assert publisher.publish() == []


def test_same_inputs_same_bytes(site_store: LocalStore) -> None:
    inputs = read_inputs(site_store, load_jurisdiction("sample"), load_policy())
    assert build_site(inputs) == build_site(inputs)


def test_dataset_page_documents_the_release(site_root: Path) -> None:
    page = (site_root / "datasets" / "incidents" / "index.html").read_text()
    assert "Creative Commons" in page or "CC BY" in page
    assert "data/part-00000.parquet" in page and "data.csv" in page
    # The data dictionary is the one the Parquet metadata carries.
    from openbeat.releases.dictionary import data_dictionary

    entry = next(
        d for d in data_dictionary("America/Chicago")["datasets"] if d["name"] == "incidents"
    )
    for column in entry["columns"]:
        assert f'<th scope="row">{column["name"]}</th>' in page


def test_spanish_jurisdiction_gets_a_spanish_site(tmp_path: Path) -> None:
    source = load_jurisdiction("sample")
    spanish = source.model_copy(update={"language": "es"})
    store = publish_store(tmp_path, spanish)
    SitePublisher(store, spanish, load_policy()).publish()
    index = (tmp_path / "index.html").read_text()
    assert '<html lang="es">' in index
    assert "Incidentes en los últimos 28 días" in index
    assert "Hurto" in index
