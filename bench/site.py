"""Building the residents' site for a 1,000,000-incident store, against releasing that store.

Setup (untimed): 1M synthetic incident rows over 2026 (releases/synthetic.py, as the release
stage), their daily counts by district and category (pyarrow group-by, cells below k
suppressed as the release does), and feeds with the last week's alerts and a few meetings.

- `release` (the baseline): `build_release` of `incidents` (1M rows) and of `incident-counts`
  into a fresh LocalStore: the work `openbeat release` does for this store (without reading the
  staged Avro parts back, which would only make the baseline slower and the ratio kinder).
- `site`: `SitePublisher.publish()` on that store in a fresh child that has not imported the
  site builder yet (a cold build, imports included: reading the releases, aggregating with
  pyarrow, drawing every chart, writing every page), then a second publish with nothing changed
  (the steady state: every object compared, none rewritten), then the phases of a third build
  timed apart (read_inputs, build_site, the comparison and writes) to show what limits it.

Runs are interleaved in forked children and the best of RUNS is reported; the figure is
site / release (goal <= 0.25), by wall clock and by CPU time (this process and its threads:
steadier than wall clock on a shared machine). Memory: each child's peak RSS and sampled peak
anonymous memory above what it started with (the rows, inherited), as in the release stage.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from bench.release import _in_child, _measure
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.privacy.policy import load_policy
from openbeat.releases import ReleaseContext, build_release
from openbeat.releases.synthetic import synthetic_incident_rows
from openbeat.store import LocalStore

ROWS = 1_000_000
RUNS = 2
SEED = 1
CUTOFF = datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
BASE_URL = "https://data.riverton.example"
TARGET_RATIO = 0.25

_ROWS: list[dict[str, Any]] = []
_COUNTS: list[dict[str, Any]] = []


def run(bootstrap: str) -> dict[str, Any]:
    """The stage entry point of bench/run.py; `bootstrap` is unused (no Kafka here)."""
    del bootstrap
    jurisdiction = load_jurisdiction("sample")
    _ROWS[:] = synthetic_incident_rows(ROWS, jurisdiction, seed=SEED)
    _COUNTS[:] = _daily_counts(_ROWS, load_policy().k)
    releases: list[dict[str, Any]] = []
    sites: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="openbeat-bench-site-") as tmp:
        for i in range(RUNS):
            folder = Path(tmp) / f"run-{i}"
            releases.append(_in_child(partial(_release, folder)))
            _feeds(folder / "store")
            sites.append(_in_child(partial(_site, folder)))
    release = min(releases, key=lambda r: r["seconds"])
    site = min(sites, key=lambda r: r["seconds"])
    release_cpu = min(r["cpu_seconds"] for r in releases)
    site_cpu = min(r["cpu_seconds"] for r in sites)
    return {
        "rows": ROWS,
        "runs": f"best of {RUNS}, interleaved, each in a fresh forked child",
        "release": f"build_release of incidents ({ROWS:,} rows) + incident-counts"
        " into a LocalStore",
        "release_s": release["seconds"],
        "release_all_s": [r["seconds"] for r in releases],
        "release_cpu_s": release_cpu,
        "release_peak_rss_mb": release["peak_rss_above_rows_mb"],
        "release_peak_anon_mb": release["peak_anon_above_rows_mb"],
        "site": "SitePublisher.publish() cold (site builder not yet imported): read releases "
        "and feeds, aggregate with pyarrow, draw every chart, write every page",
        "site_s": site["seconds"],
        "site_all_s": [r["seconds"] for r in sites],
        "site_cpu_s": site_cpu,
        "site_objects": site["objects"],
        "site_peak_rss_mb": max(r["peak_rss_above_rows_mb"] for r in sites),
        "site_peak_anon_mb": max(r["peak_anon_above_rows_mb"] for r in sites),
        "site_rebuild_unchanged_s": min(r["rebuild_seconds"] for r in sites),
        "site_phases_s": site["phases"],
        "ratio": round(site["seconds"] / release["seconds"], 3),
        "ratio_cpu": round(site_cpu / release_cpu, 3),
        "target_ratio": TARGET_RATIO,
        "meets_target": site["seconds"] / release["seconds"] <= TARGET_RATIO,
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
    }


def _daily_counts(rows: list[dict[str, Any]], k: int) -> list[dict[str, Any]]:
    import pyarrow as pa

    table = pa.table(
        {
            "date": [r["occurred_date"] for r in rows],
            "district": [r["district"] for r in rows],
            "category": [r["category"] for r in rows],
        }
    )
    grouped = table.group_by(["date", "district", "category"]).aggregate([("category", "count")])
    out = []
    for row in grouped.to_pylist():
        count = row["category_count"]
        out.append(
            {
                "date": row["date"],
                "district": row["district"],
                "category": row["category"],
                "count": count if count >= k else None,
                "suppressed": count < k,
            }
        )
    return out


def _release(folder: Path) -> dict[str, Any]:
    folder.mkdir(parents=True)
    store = LocalStore(folder / "store")
    context = ReleaseContext(
        base_url=BASE_URL, jurisdiction=load_jurisdiction("sample"), workdir=folder
    )

    def go() -> None:
        for dataset, rows in (("incidents", _ROWS), ("incident-counts", _COUNTS)):
            result = build_release(store, dataset, iter(rows), CUTOFF, context)
            if not result.ok:
                raise RuntimeError(f"site bench: release of {dataset} failed: {result.errors}")

    return _cpu_measured(go)


def _cpu_measured(fn: Callable[[], Any]) -> dict[str, Any]:
    """`_measure` (wall seconds, peak memory) plus the CPU seconds of this process's threads."""
    out: list[Any] = []
    cpu = time.process_time()
    figures = _measure(lambda: out.append(fn()))
    figures["cpu_seconds"] = round(time.process_time() - cpu, 3)
    figures["result"] = out[0]
    return figures


def _feeds(root: Path) -> None:
    """Feeds as the alerter writes them: last week's alert-category incidents, six meetings."""
    from openbeat.feeds import feed_objects, load_alert_rules
    from openbeat.feeds.alerts import AlertState

    jurisdiction = load_jurisdiction("sample")
    store = LocalStore(root)
    rules = load_alert_rules(base_url=BASE_URL)
    state = AlertState(jurisdiction.timezone)
    week = (CUTOFF - timedelta(days=7)).date()
    for row in _ROWS:
        if row["occurred_date"] >= week:
            state.absorb_incident({**row, "revision": 1, "withdrawn": False})
    for n, district in enumerate(sorted(jurisdiction.district_ids)):
        starts = CUTOFF + timedelta(days=1 + n)
        state.absorb_engagement(
            {
                "public_id": f"m{n:031x}",
                "revision": 1,
                "withdrawn": False,
                "kind": "community_meeting",
                "status": "scheduled",
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=2),
                "district": district,
                "venue": "Library",
                "block": None,
                "partners": [],
                "topics": ["traffic_safety"],
            },
            seen=(CUTOFF - timedelta(days=2)).timestamp(),
        )
    for obj in feed_objects(state, CUTOFF, rules, jurisdiction):
        store.put(obj.key, obj.data, obj.content_type, obj.cache_control)


def _site(folder: Path) -> dict[str, Any]:
    import sys

    from openbeat.site.publisher import SitePublisher

    if "openbeat.site.build" in sys.modules:
        raise RuntimeError("site bench: the site builder is already imported, not a cold build")
    store = LocalStore(folder / "store")
    jurisdiction, policy = load_jurisdiction("sample"), load_policy()
    publisher = SitePublisher(store, jurisdiction, policy)
    figures = _cpu_measured(publisher.publish)
    changed = figures.pop("result")
    rebuild, again = _timed(publisher.publish)
    if again:
        raise RuntimeError(f"site bench: an unchanged rebuild rewrote {len(again)} objects")
    figures.update(rebuild_seconds=rebuild, objects=len(changed), phases=_phases(store))
    return figures


def _phases(store: LocalStore) -> dict[str, float]:
    """A third (warm) build, its phases timed apart, writing into a fresh folder."""
    from openbeat.site.build import build_site, content_type
    from openbeat.site.inputs import read_inputs
    from openbeat.store import put_changed

    read_s, inputs = _timed(lambda: read_inputs(store, load_jurisdiction("sample"), load_policy()))
    build_s, objects = _timed(lambda: build_site(inputs))
    with tempfile.TemporaryDirectory(prefix="openbeat-bench-site-write-") as tmp:
        target, written = LocalStore(Path(tmp)), dict[str, bytes]()
        write_s, _ = _timed(
            lambda: [put_changed(target, written, k, objects[k], content_type(k)) for k in objects]
        )
    return {"read_inputs": read_s, "build_site": build_s, "write_fresh": write_s}


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    out = fn()
    return round(time.perf_counter() - started, 3), out
