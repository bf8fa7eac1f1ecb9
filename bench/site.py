"""Building the residents' site for a 1,000,000-incident store, against releasing that store.

Setup (untimed): 1M synthetic incident rows over 2026, their daily counts by district and
category (pyarrow group-by, cells below k suppressed as the release does), and feeds with the
last week's alerts and a few meetings.

- `release` (the baseline): `build_release` of `incidents` (1M rows) and of `incident-counts`
  into a fresh LocalStore: what the publisher does for this store on every release.
- `site`: `SitePublisher.publish()` on that store in a fresh child that has not imported
  matplotlib yet (a cold build: reading the releases, aggregating with pyarrow, drawing every
  chart, writing every page), and a second publish with nothing changed (the steady state:
  charts come from the digest cache and no object is rewritten).

Runs are interleaved in forked children and the best of RUNS is reported; the figure is
site / release (goal <= 0.25).
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.release import _in_child
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
    releases: list[float] = []
    cold: list[float] = []
    warm: list[float] = []
    objects = 0
    with tempfile.TemporaryDirectory(prefix="openbeat-bench-site-") as tmp:
        for i in range(RUNS):
            folder = Path(tmp) / f"run-{i}"
            releases.append(_in_child(lambda f=folder: _release(f))["seconds"])
            _feeds(folder / "store")
            result = _in_child(lambda f=folder: _site(f))
            cold.append(result["seconds"])
            warm.append(result["rebuild_seconds"])
            objects = result["objects"]
    best_release, best_site = min(releases), min(cold)
    return {
        "rows": ROWS,
        "runs": f"best of {RUNS}, interleaved, each in a fresh forked child",
        "release": "build_release of incidents (1M rows) + incident-counts into a LocalStore",
        "release_s": best_release,
        "release_all_s": releases,
        "site": "SitePublisher.publish() cold (matplotlib not yet imported): read releases and "
        "feeds, aggregate with pyarrow, draw every chart, write every page",
        "site_s": best_site,
        "site_all_s": cold,
        "site_objects": objects,
        "site_rebuild_unchanged_s": min(warm),
        "ratio": round(best_site / best_release, 3),
        "target_ratio": TARGET_RATIO,
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
    started = time.perf_counter()
    for dataset, rows in (("incidents", _ROWS), ("incident-counts", _COUNTS)):
        result = build_release(store, dataset, iter(rows), CUTOFF, context)
        if not result.ok:
            raise RuntimeError(f"site bench: release of {dataset} failed: {result.errors}")
    return {"seconds": round(time.perf_counter() - started, 3)}


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

    if "matplotlib" in sys.modules:
        raise RuntimeError("site bench: matplotlib already imported, the build would not be cold")
    publisher = SitePublisher(
        LocalStore(folder / "store"), load_jurisdiction("sample"), load_policy()
    )
    seconds, changed = _timed(publisher.publish)
    rebuild, again = _timed(publisher.publish)
    if again:
        raise RuntimeError(f"site bench: an unchanged rebuild rewrote {len(again)} objects")
    return {"seconds": seconds, "rebuild_seconds": rebuild, "objects": len(changed)}


def _timed(fn: Callable[[], list[str]]) -> tuple[float, list[str]]:
    started = time.perf_counter()
    out = fn()
    return round(time.perf_counter() - started, 3), out
