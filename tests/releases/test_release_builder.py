"""build_release: files, types, determinism, immutability, pointers and the DCAT catalog."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import random
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from release_inputs import BASE_URL, CUTOFF, incident_row

from data_files import DCAT_VALIDATOR
from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.releases import ReleaseContext, build_release, get_dataset
from openbeat.releases.dcat import validate_catalog
from openbeat.releases.tabular import RowError
from openbeat.store import LocalStore, ObjectStore

PREFIX = "datasets/incidents/releases/2026-11-25T120000Z/"


def _parquet(store: ObjectStore, key: str) -> pa.Table:
    return pq.read_table(io.BytesIO(store.get(key)))


def _csv(store: ObjectStore, key: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(store.get(key).decode("utf-8"), newline="")))


def test_release_layout_and_content_types(
    tmp_path: Path, context: ReleaseContext, incident_rows: list[dict[str, Any]]
) -> None:
    store = LocalStore(tmp_path)
    result = build_release(store, "incidents", incident_rows, CUTOFF, context)
    assert result.ok, result.errors
    assert result.release_id == "2026-11-25T120000Z"
    assert store.list(PREFIX) == [
        PREFIX + "changes.json",
        PREFIX + "data.csv",
        PREFIX + "data/part-00000.parquet",
        PREFIX + "datapackage.json",
        PREFIX + "manifest.json",
    ]
    assert store.head(PREFIX + "data/part-00000.parquet").content_type == (
        "application/vnd.apache.parquet"
    )
    assert store.head(PREFIX + "data.csv").content_type == "text/csv; charset=utf-8"
    assert store.head(PREFIX + "manifest.json").content_type == "application/json"
    latest = store.head("datasets/incidents/latest.json")
    assert latest.content_type == "application/json" and latest.cache_control
    assert store.head("catalog/data.json").cache_control
    pointer = json.loads(store.get("datasets/incidents/latest.json"))
    assert pointer["release_id"] == "2026-11-25T120000Z"
    assert pointer["files"][0]["url"] == f"{BASE_URL}/{PREFIX}data/part-00000.parquet"


def test_parquet_has_documented_types_sorted_rows_and_metadata(
    tmp_path: Path, context: ReleaseContext, incident_rows: list[dict[str, Any]]
) -> None:
    store = LocalStore(tmp_path)
    build_release(store, "incidents", reversed(incident_rows), CUTOFF, context)
    table = _parquet(store, PREFIX + "data/part-00000.parquet")
    schema = table.schema
    assert schema.field("reported_date").type == pa.date32()
    assert schema.field("occurred_hour").type == pa.timestamp("ms", tz="UTC")
    assert schema.field("latitude").type == pa.float64()
    assert schema.field("public_id").nullable is False
    assert schema.field("block").metadata[b"description"].startswith(b"Hundred block")
    assert schema.metadata[b"openbeat.release_id"] == b"2026-11-25T120000Z"
    assert schema.metadata[b"openbeat.dataset"] == b"incidents"
    rows = table.to_pylist()
    assert len(rows) == 60
    keys = [(r["occurred_date"], r["public_id"]) for r in rows]
    assert keys == sorted(keys)
    by_id = {r["public_id"]: r for r in incident_rows}
    zone = ZoneInfo("America/Chicago")  # the sample jurisdiction's
    for row in rows:
        given = by_id[row["public_id"]]
        local = row.pop("occurred_hour_local")
        if given["occurred_hour"] is None:
            assert local is None
        else:  # the local wall clock of the UTC hour, and its date
            assert local == given["occurred_hour"].astimezone(zone).replace(tzinfo=None)
            given = {**given, "occurred_date": local.date()}
        assert row == given
    assert (
        "America/Chicago" in schema.field("occurred_hour_local").metadata[b"description"].decode()
    )
    meta = pq.ParquetFile(io.BytesIO(store.get(PREFIX + "data/part-00000.parquet"))).metadata
    assert meta.row_group(0).column(0).compression == "ZSTD"


def test_csv_equals_parquet_row_for_row(
    tmp_path: Path, context: ReleaseContext, incident_rows: list[dict[str, Any]]
) -> None:
    store = LocalStore(tmp_path)
    build_release(store, "incidents", incident_rows, CUTOFF, context)
    raw = store.get(PREFIX + "data.csv")
    assert raw.count(b"\r\n") == 61 and raw.count(b"\n") == 61  # CRLF everywhere
    cells = _csv(store, PREFIX + "data.csv")
    assert cells[0] == get_dataset("incidents").column_names
    parquet_rows = _parquet(store, PREFIX + "data/part-00000.parquet").to_pylist()
    assert len(cells) - 1 == len(parquet_rows)
    for line, row in zip(cells[1:], parquet_rows, strict=True):
        record = dict(zip(cells[0], line, strict=True))
        assert record["public_id"] == row["public_id"]
        assert record["reported_date"] == row["reported_date"].isoformat()
        hour = row["occurred_hour"]
        assert record["occurred_hour"] == (hour.strftime("%Y-%m-%dT%H:%M:%SZ") if hour else "")
        assert record["block"] == (row["block"] or "")
        if row["latitude"] is None:
            assert record["latitude"] == ""
        else:
            assert float(record["latitude"]) == row["latitude"]


def test_manifest_checksums_and_rows_match_the_objects(
    tmp_path: Path, context: ReleaseContext, incident_rows: list[dict[str, Any]]
) -> None:
    store = LocalStore(tmp_path)
    build_release(store, "incidents", incident_rows, CUTOFF, context)
    manifest = json.loads(store.get(PREFIX + "manifest.json"))
    assert manifest["rows"] == 60
    assert manifest["cutoff"] == "2026-11-25T12:00:00Z"
    assert manifest["source_offsets"] == context.source_offsets
    assert manifest["policy"] == {"k": 5, "grid_m": 250, "time": "hour"}
    assert manifest["time_coverage"] == {
        "column": "occurred_date",
        "min": "2026-11-01",
        "max": "2026-11-18",
    }
    assert [f["path"] for f in manifest["files"]] == [
        "data/part-00000.parquet",
        "data.csv",
        "changes.json",
    ]
    for entry in manifest["files"]:
        data = store.get(PREFIX + entry["path"])
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["rows"] == (0 if entry["path"] == "changes.json" else 60)
    package = json.loads(store.get(PREFIX + "datapackage.json"))
    hashes = {r["path"]: r["hash"] for r in package["resources"]}
    assert hashes == {f["path"]: f"sha256:{f['sha256']}" for f in manifest["files"]}


def test_same_cutoff_and_input_give_byte_identical_files(
    tmp_path: Path, context: ReleaseContext, incident_rows: list[dict[str, Any]]
) -> None:
    first, second = LocalStore(tmp_path / "a"), LocalStore(tmp_path / "b")
    build_release(first, "incidents", incident_rows, CUTOFF, context)
    shuffled = list(incident_rows)
    random.Random(7).shuffle(shuffled)  # arrival order must not matter
    build_release(second, "incidents", iter(shuffled), CUTOFF, context)
    keys = first.list(PREFIX)
    assert keys == second.list(PREFIX)
    for key in keys:
        assert first.get(key) == second.get(key), key


def test_rerun_changes_nothing(
    tmp_path: Path, context: ReleaseContext, incident_rows: list[dict[str, Any]]
) -> None:
    store = LocalStore(tmp_path)
    build_release(store, "incidents", incident_rows, CUTOFF, context)
    # Every object, latest.json and the catalog included: portals poll those by ETag.
    before = {k: (store.get(k), (tmp_path / k).stat().st_mtime_ns) for k in store.list("")}
    again = build_release(store, "incidents", incident_rows, CUTOFF, context)
    assert again.ok, again.errors
    assert again.written == []
    assert len(again.unchanged) == 5
    after = {k: (store.get(k), (tmp_path / k).stat().st_mtime_ns) for k in store.list("")}
    assert after == before
    assert any(k.endswith("latest.json") for k in after) and "catalog/data.json" in after


def test_existing_release_with_other_bytes_is_an_error_not_an_overwrite(
    tmp_path: Path, context: ReleaseContext, incident_rows: list[dict[str, Any]]
) -> None:
    store = LocalStore(tmp_path)
    build_release(store, "incidents", incident_rows, CUTOFF, context)
    original = store.get(PREFIX + "data.csv")
    latest = store.get("datasets/incidents/latest.json")
    changed = build_release(store, "incidents", incident_rows[:-1], CUTOFF, context)
    assert not changed.ok
    assert any("data.csv" in e and "different bytes" in e for e in changed.errors)
    assert store.get(PREFIX + "data.csv") == original
    assert not changed.latest_updated
    assert store.get("datasets/incidents/latest.json") == latest


def test_latest_never_moves_back_to_an_older_cutoff(
    tmp_path: Path, context: ReleaseContext, incident_rows: list[dict[str, Any]]
) -> None:
    store = LocalStore(tmp_path)
    build_release(store, "incidents", incident_rows, CUTOFF, context)
    older = build_release(
        store, "incidents", incident_rows[:10], CUTOFF - timedelta(days=1), context
    )
    assert older.ok and not older.latest_updated
    assert json.loads(store.get("datasets/incidents/latest.json"))["release_id"] == (
        "2026-11-25T120000Z"
    )


def test_rows_that_do_not_fit_the_schema_are_rejected_naming_the_column(
    tmp_path: Path, context: ReleaseContext
) -> None:
    store = LocalStore(tmp_path)
    with pytest.raises(RowError, match="district"):
        build_release(store, "incidents", [incident_row(1, district=None)], CUTOFF, context)
    with pytest.raises(RowError, match="latitude"):
        build_release(store, "incidents", [incident_row(1, latitude="north")], CUTOFF, context)
    assert store.list("datasets/") == []


def test_aggregate_and_list_datasets_round_trip(tmp_path: Path, context: ReleaseContext) -> None:
    store = LocalStore(tmp_path)
    counts = [
        {
            "date": date(2026, 11, 2),
            "district": "D1",
            "category": "theft",
            "count": 7,
            "suppressed": False,
        },
        {
            "date": date(2026, 11, 1),
            "district": "D2",
            "category": "theft",
            "count": None,
            "suppressed": True,
        },
    ]
    assert build_release(store, "incident-counts", counts, CUTOFF, context).ok
    table = _parquet(
        store, "datasets/incident-counts/releases/2026-11-25T120000Z/data/part-00000.parquet"
    )
    assert table.schema.field("count").type == pa.int64()
    assert table.column("count").to_pylist() == [None, 7]  # sorted by date
    summary = [
        {
            "iso_week": "2026-W47",
            "district": "D1",
            "events_held": 5,
            "meetings": None,
            "neighborhood_watch": None,
            "school_workshops": None,
            "patrol_walks": None,
            "forums": None,
            "attendees": 80,
            "survey_responses": None,
            "mean_trust": None,
            "mean_safety": None,
            "suppressed": True,
        },
    ]
    assert build_release(store, "engagement-summary", summary, CUTOFF, context).ok
    events = [
        {
            "public_id": "e1",
            "kind": "forum",
            "status": "scheduled",
            "starts_at": datetime(2026, 11, 30, 18, tzinfo=UTC),
            "ends_at": None,
            "district": "D3",
            "venue": "Library, Room 2",
            "block": "004XX E RIVER RD",
            "attendee_count": None,
            "partners": ["PTA", "Library"],
            "topics": [],
        },
    ]
    assert build_release(store, "engagement-events", events, CUTOFF, context).ok
    key = "datasets/engagement-events/releases/2026-11-25T120000Z/"
    (published,) = _parquet(store, key + "data/part-00000.parquet").to_pylist()
    assert published.pop("starts_at_local") == datetime(2026, 11, 30, 12)  # Chicago wall clock
    assert published.pop("ends_at_local") is None
    assert published == events[0]
    assert _csv(store, key + "data.csv")[1][8:13] == [
        "Library, Room 2",
        "004XX E RIVER RD",
        "",
        '["PTA", "Library"]',
        "[]",
    ]
    catalog = json.loads(store.get("catalog/data.json"))
    assert [d["identifier"].rsplit("/", 1)[1] for d in catalog["dataset"]] == [
        "engagement-events",
        "engagement-summary",
        "incident-counts",
    ]


def test_catalog_is_valid_dcat_us(
    tmp_path: Path,
    context: ReleaseContext,
    incident_rows: list[dict[str, Any]],
    jurisdiction: Jurisdiction,
) -> None:
    store = LocalStore(tmp_path)
    build_release(store, "incidents", incident_rows, CUTOFF, context)
    catalog = json.loads(store.get("catalog/data.json"))
    assert validate_catalog(catalog) == []
    (dataset,) = catalog["dataset"]
    assert dataset["publisher"]["name"] == jurisdiction.publisher
    assert dataset["contactPoint"]["hasEmail"] == f"mailto:{jurisdiction.contact_email}"
    assert {d["mediaType"] for d in dataset["distribution"]} == {
        "application/vnd.apache.parquet",
        "text/csv",
        "application/json",
    }
    assert dataset["temporal"] == "2026-11-01/2026-11-18"
    broken = json.loads(json.dumps(catalog))
    del broken["dataset"][0]["title"]
    broken["dataset"][0]["distribution"][0]["mediaType"] = "not a media type"
    problems = validate_catalog(broken)
    assert any("title" in p for p in problems)
    assert any("mediaType" in p or "distribution" in p for p in problems)


def test_catalog_passes_the_offline_dcat_validator(
    tmp_path: Path, context: ReleaseContext, incident_rows: list[dict[str, Any]]
) -> None:
    store = LocalStore(tmp_path / "root")
    build_release(store, "incidents", incident_rows, CUTOFF, context)
    build_release(store, "incident-counts", [], CUTOFF, context)
    done = subprocess.run(
        [
            sys.executable,
            str(DCAT_VALIDATOR),
            "--non-federal",
            str(tmp_path / "root" / "catalog" / "data.json"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "valid"


def _lazy_rows(n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield incident_row(i, public_id=f"id{i:07d}", block=f"{i % 90:03d}XX N OAK AVE {i}")


def test_build_streams_its_input_in_batches(tmp_path: Path, jurisdiction: Jurisdiction) -> None:
    context = ReleaseContext(base_url=BASE_URL, jurisdiction=jurisdiction, batch_rows=4000)
    store = LocalStore(tmp_path)
    tracemalloc.start()
    result = build_release(store, "incidents", _lazy_rows(40_000), CUTOFF, context)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert result.ok and result.rows == 40_000
    # 40k row dicts held at once take ~30 MB of Python objects; batches of 4k about 6 MB.
    assert peak < 15_000_000, peak
    meta = pq.ParquetFile(io.BytesIO(store.get(PREFIX + "data/part-00000.parquet"))).metadata
    assert meta.num_row_groups == 10
    assert meta.num_rows == 40_000
