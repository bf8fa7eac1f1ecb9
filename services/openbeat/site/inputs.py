"""What the site is built from, read from the PUBLIC store only: releases and feeds.

The site shows nothing the published datasets and feeds do not already publish: numbers come
from the `incident-counts` and `engagement-summary` releases (suppressed cells stay withheld),
rows from the `incidents` release, alerts and meetings from the feeds' JSON (with their public
facts). The reading is the I/O shell; every number is aggregated here with pyarrow into small
plain tables, so building pages and charts never touches a million rows.
"""

from __future__ import annotations

import json
import logging
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.privacy.policy import Policy
from openbeat.releases.datasets import DATASETS
from openbeat.releases.dictionary import data_dictionary
from openbeat.releases.documents import DATAPACKAGE_FILE, PARQUET_FILE, latest_key
from openbeat.store import ObjectNotFound, ObjectStore

logger = logging.getLogger(__name__)

WINDOW_DAYS = 28
PREVIEW_ROWS = 5
ALERTS_JSON = "feeds/alerts.json"
MEETINGS_JSON = "feeds/meetings.json"


@dataclass(frozen=True)
class DatasetView:
    """One dataset as its page shows it."""

    name: str
    dictionary: dict[str, Any]  # the data dictionary entry (releases/dictionary.py)
    latest: dict[str, Any] | None  # latest.json, None before the first release
    licence: tuple[str, str] | None  # (title, url)
    preview: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class SiteInputs:
    """Plain data in; `build_site` turns it into pages. Equal inputs give equal bytes."""

    jurisdiction: Jurisdiction
    k: int
    datasets: tuple[DatasetView, ...]
    # (local date, district, category, count) of published (unsuppressed) incident-counts cells.
    daily: tuple[tuple[date, str, str, int], ...] = ()
    counts_end: date | None = None  # the last day incident-counts covers
    # The incidents rows of the last 28 days, newest first (the dataset's columns), as an Arrow
    # table: tens of thousands of rows in a busy city, never turned into Python rows wholesale.
    recent: pa.Table | None = None
    survey: tuple[tuple[str, float, float], ...] = ()  # (iso week, mean trust, mean safety)
    alerts: tuple[dict[str, Any], ...] = ()  # JSON Feed items of feeds/alerts.json
    meetings: tuple[dict[str, Any], ...] = ()  # JSON Feed items of feeds/meetings.json
    feeds: frozenset[str] = frozenset()  # the alerter's feed keys that exist (links only to those)
    extra: dict[str, Any] = field(default_factory=dict)


def _json(store: ObjectStore, key: str) -> Any:
    try:
        return json.loads(store.get(key))
    except ObjectNotFound:
        return None


def _parquet(store: ObjectStore, latest: dict[str, Any], work: Path) -> Path:
    local = work / f"{latest['dataset']}.parquet"
    store.download(f"{latest['release']}{PARQUET_FILE}", local)
    return local


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, float):
        return f"{value:.5f}"
    return str(value)


def read_inputs(store: ObjectStore, jurisdiction: Jurisdiction, policy: Policy) -> SiteInputs:
    """Everything the site needs from the public store (missing releases are simply absent)."""
    dictionary = {d["name"]: d for d in data_dictionary(jurisdiction.timezone)["datasets"]}
    views = []
    tables: dict[str, Path] = {}
    latests: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="openbeat-site-") as tmp:
        work = Path(tmp)
        for name in sorted(DATASETS):
            latest = _json(store, latest_key(name))
            licence = None
            preview: tuple[tuple[str, ...], ...] = ()
            if latest is not None:
                latests[name] = latest
                package = _json(store, f"{latest['release']}{DATAPACKAGE_FILE}") or {}
                first = (package.get("licenses") or [{}])[0]
                if first.get("path"):
                    licence = (str(first.get("title") or first["path"]), str(first["path"]))
                tables[name] = _parquet(store, latest, work)
                preview = _preview(tables[name])
            views.append(DatasetView(name, dictionary[name], latest, licence, preview))
        daily, end = _daily(tables.get("incident-counts"))
        recent = _recent(tables.get("incidents"), latests.get("incidents"), jurisdiction, policy)
        survey = _survey(tables.get("engagement-summary"))
    alerts = (_json(store, ALERTS_JSON) or {}).get("items", [])
    meetings = (_json(store, MEETINGS_JSON) or {}).get("items", [])
    feeds = frozenset(k for k in store.list("feeds/") if k.endswith(".rss"))
    return SiteInputs(
        jurisdiction=jurisdiction,
        k=policy.k,
        datasets=tuple(views),
        daily=daily,
        counts_end=end,
        recent=recent,
        survey=survey,
        alerts=tuple(alerts),
        meetings=tuple(meetings),
        feeds=feeds,
    )


def _preview(path: Path) -> tuple[tuple[str, ...], ...]:
    pfile = pq.ParquetFile(path)
    if pfile.metadata.num_rows == 0:
        return ()
    head = next(pfile.iter_batches(batch_size=PREVIEW_ROWS))
    return tuple(tuple(_cell(v) for v in row.values()) for row in head.to_pylist()[:PREVIEW_ROWS])


def _daily(path: Path | None) -> tuple[tuple[tuple[date, str, str, int], ...], date | None]:
    """Published per-day cells by district and category (no totals, no withheld rows)."""
    if path is None:
        return (), None
    t = pq.read_table(path, columns=["date", "district", "category", "count", "suppressed"])
    if t.num_rows == 0:
        return (), None
    end = pc.max(t["date"]).as_py()
    keep = pc.and_(
        pc.invert(t["suppressed"]),
        pc.invert(pc.is_in(t["category"], pa.array(["(all)", "(withheld)"]))),
    )
    keep = pc.and_(keep, pc.not_equal(t["district"], "(citywide)"))
    keep = pc.and_(keep, pc.greater(t["date"], pa.scalar(end - timedelta(days=371), pa.date32())))
    t = t.filter(keep)
    rows = zip(
        t["date"].to_pylist(),
        t["district"].to_pylist(),
        t["category"].to_pylist(),
        t["count"].to_pylist(),
        strict=True,
    )
    return tuple(sorted((d, s, c, int(n)) for d, s, c, n in rows)), end


def _recent(
    path: Path | None,
    latest: dict[str, Any] | None,
    jurisdiction: Jurisdiction,
    policy: Policy,
) -> pa.Table | None:
    """Incident rows of the 28 days before the release's publication cutoff (already in the
    dataset, so nothing here is finer than it)."""
    if path is None or latest is None:
        return None
    cutoff = datetime.fromisoformat(str(latest["cutoff"]).replace("Z", "+00:00"))
    until = policy.publication_cutoff(cutoff).astimezone(jurisdiction.zone).date()
    since = until - timedelta(days=WINDOW_DAYS)
    # The dataset is sorted by occurred_date: row groups outside the window are never decoded.
    t = pq.read_table(
        path,
        filters=[("occurred_date", ">", since)],
    )
    t = t.filter(
        pc.and_(
            pc.greater(t["occurred_date"], pa.scalar(since, pa.date32())),
            pc.less_equal(t["reported_date"], pa.scalar(until, pa.date32())),
        )
    )
    return t.sort_by([("occurred_date", "descending"), ("public_id", "ascending")])


def _survey(path: Path | None) -> tuple[tuple[str, float, float], ...]:
    """The citywide weekly mean trust and safety scores that are published (not suppressed)."""
    if path is None:
        return ()
    t = pq.read_table(
        path, columns=["iso_week", "district", "mean_trust", "mean_safety", "suppressed"]
    )
    t = t.filter(
        pc.and_(
            pc.equal(t["district"], "(citywide)"),
            pc.and_(pc.invert(t["suppressed"]), pc.is_valid(t["mean_trust"])),
        )
    )
    rows = zip(
        t["iso_week"].to_pylist(),
        t["mean_trust"].to_pylist(),
        t["mean_safety"].to_pylist(),
        strict=True,
    )
    return tuple(sorted((w, float(a), float(b)) for w, a, b in rows if b is not None))[-52:]
