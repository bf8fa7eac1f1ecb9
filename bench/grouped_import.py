"""Grouped import of 1,000,000 rows against the ungrouped import of the same file, same run.

The file is DataSF-shaped (the real SF export's rows as templates, tests/data/), one row per
offense: about 2.5 rows per Incident Number, the rows of an incident scattered through the whole
file (a seeded shuffle), so grouping cannot rely on neighbours. Two imports of that file, each in
a fresh interpreter (`python -m bench.grouped_import CHILD ...`), no broker (emit's dry run: map,
group, validate every row, the work `emit` does before sending):

- `baseline`: the shipped SF mapping without its `[group_by]` section: every row a record;
- `grouped`: the shipped SF mapping: rows combined per Incident Number via spill buckets.

Figures: rows/s of each, their ratio (goal >= 0.6), and the peak RSS of the grouped run's
process (`wait4` rusage of that child alone; goal < 1 GB). Runs are interleaved and the best of
RUNS is kept.
"""

from __future__ import annotations

import csv
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SF_CSV = ROOT / "tests" / "data" / "sf_police_incidents_2018-12.csv"
SF_MAP = ROOT / "infra" / "mappings" / "sf-incidents.toml"
ROWS = 1_000_000
RUNS = 1
GOAL_RATIO = 0.6
GOAL_RSS_MB = 1024


def make_export(path: Path, rows: int, seed: int = 8) -> int:
    """A DataSF-shaped CSV of `rows` rows; returns the number of distinct incident numbers."""
    with SF_CSV.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        templates = [r for r in reader if r[header.index("Police District")] != "Out of SF"]
    number = header.index("Incident Number")
    rng = random.Random(seed)
    incidents = rows * 2 // 5
    owners = [i % incidents for i in range(rows)]  # 2.5 rows per incident on average
    rng.shuffle(owners)  # an incident's rows anywhere in the file
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for owner in owners:
            row = list(templates[owner % len(templates)])
            row[number] = str(900_000_000 + owner)
            writer.writerow(row)
    return incidents


def ungrouped_mapping(folder: Path) -> Path:
    text = SF_MAP.read_text(encoding="utf-8")
    start, end = text.index("[group_by]"), text.index("[[skip]]")
    path = folder / "sf-ungrouped.toml"
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    return path


def _child(export: str, mapping: str) -> None:
    """Import the whole file (no broker) and print rows, records and seconds."""
    from datetime import UTC, datetime

    from openbeat.contracts.jurisdiction import load_jurisdiction
    from openbeat.contracts.offenses import load_offense_table
    from openbeat.contracts.validation import ValidationContext
    from openbeat.emit.importer import import_file
    from openbeat.emit.report import ImportTally

    jurisdiction = load_jurisdiction("sf")
    ctx = ValidationContext(jurisdiction, load_offense_table(), datetime.now(UTC))
    tally = ImportTally()
    started = time.perf_counter()
    for result in import_file(Path(export), "incident", Path(mapping), jurisdiction, ctx):
        tally.add(result)
    elapsed = time.perf_counter() - started
    print(f"{tally.rows} {tally.records} {elapsed:.3f}")


def _measure(export: Path, mapping: Path) -> dict[str, Any]:
    import subprocess

    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.grouped_import", "CHILD", str(export), str(mapping)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    output = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"import child failed ({proc.returncode}): {output[-500:]}")
    rows, records, seconds = output.split()
    return {
        "rows": int(rows),
        "records": int(records),
        "seconds": float(seconds),
        "rows_per_s": round(int(rows) / float(seconds)),
        "peak_rss_mb": round(usage.ru_maxrss / 1024),  # kilobytes on Linux
    }


def run(bootstrap: str = "", rows: int = ROWS) -> dict[str, Any]:
    del bootstrap  # an import's dry run needs no broker
    with tempfile.TemporaryDirectory(prefix="openbeat-bench-import-") as tmp:
        folder = Path(tmp)
        export = folder / "sf-1m.csv"
        incidents = make_export(export, rows)
        flat = ungrouped_mapping(folder)
        baseline: list[dict[str, Any]] = []
        grouped: list[dict[str, Any]] = []
        for _ in range(RUNS):
            baseline.append(_measure(export, flat))
            grouped.append(_measure(export, SF_MAP))
        best_base = max(baseline, key=lambda r: r["rows_per_s"])
        best_grouped = max(grouped, key=lambda r: r["rows_per_s"])
        ratio = best_grouped["rows_per_s"] / best_base["rows_per_s"]
        peak = max(r["peak_rss_mb"] for r in grouped)
        return {
            "what": "import (map, group, validate; no broker) of a DataSF-shaped CSV, rows of an "
            "incident scattered through the file",
            "rows": rows,
            "incident_numbers": incidents,
            "file_mb": round(export.stat().st_size / 2**20, 1),
            "baseline": "the same file and mapping without group_by (every row a record)",
            "baseline_rows_per_s": best_base["rows_per_s"],
            "grouped_rows_per_s": best_grouped["rows_per_s"],
            "grouped_records": best_grouped["records"],
            "ratio": round(ratio, 3),
            "goal_ratio": GOAL_RATIO,
            "meets_ratio": ratio >= GOAL_RATIO,
            "grouped_peak_rss_mb": peak,
            "baseline_peak_rss_mb": max(r["peak_rss_mb"] for r in baseline),
            "goal_peak_rss_mb": GOAL_RSS_MB,
            "meets_rss": peak < GOAL_RSS_MB,
            "load_average_1m_at_end": round(os.getloadavg()[0], 2),
        }


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "CHILD":
        _child(sys.argv[2], sys.argv[3])
    else:
        import json

        count = int(sys.argv[1]) if len(sys.argv) > 1 else ROWS
        print(json.dumps(run(rows=count), indent=2))
