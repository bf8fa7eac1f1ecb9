"""A city's backfill end to end: `emit FILE` -> `run --until-idle` -> `release`, against a batch
script doing the equivalent core transform on the same file, in the same run.

The export is Chicago-shaped: the shipped sample (tests/data/chicago_crimes_2014-03.csv, one
month) replicated REPLICAS times with new ids, each copy's dates (Date and Updated On) moved by
that many months, so the history spans years as a real backfill does (~300k rows). Every stage
is the real command in a fresh interpreter (`python -m openbeat.cli ...`) on a fresh topic
namespace and store, with the Chicago jurisdiction and mapping:

- `emit`: `openbeat emit FILE --kind incident --mapping infra/mappings/chicago-crimes.toml`;
- `run`: `openbeat run SERVICE --until-idle` for the anonymizer, aggregator, publisher and
  alerter in turn (what `run --until-idle` does, one process each so each has a time);
- `release`: `openbeat release --cutoff C` (every dataset).

The baseline (`bench/backfill_batch.py`) reads the same CSV with pyarrow and writes one Parquet
file of hundred blocks, grid-snapped points, HMAC ids and hour-truncated local times. openbeat
does far more (validation, the whole privacy policy, CSV, manifests, aggregates, feeds, catalog);
the ratio says how far a backfill is from a batch job. Each command runs once (it takes minutes);
the baseline runs before and after and the faster one counts.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bench.common import bench_namespace

ROOT = Path(__file__).resolve().parents[1]
CHICAGO_CSV = ROOT / "tests" / "data" / "chicago_crimes_2014-03.csv"
CHICAGO_MAP = ROOT / "infra" / "mappings" / "chicago-crimes.toml"
REPLICAS = 43  # x 6,957 rows = 299,151 rows
ID_STEP = 100_000_000  # new ids per copy, above any id of the sample
STAMP = "%m/%d/%Y %I:%M:%S %p"
CUTOFF = "2026-11-01T00:00:00Z"
KEY = "6f70656e626561742d62656e63682d6b65792d6e6f742d612d736563726574"  # bench only
GOAL_RATIO = 0.05
SERVICES = ("anonymizer", "aggregator", "publisher", "alerter")


def _months_later(text: str, months: int) -> str:
    if not text:
        return text
    moment = datetime.strptime(text, STAMP)
    year, month = divmod(moment.month - 1 + months, 12)
    try:
        moved = moment.replace(year=moment.year + year, month=month + 1)
    except ValueError:  # the 31st of a shorter month: the last day of that month
        first = moment.replace(year=moment.year + year, month=month + 1, day=1)
        moved = first + timedelta(days=27)
        while (moved + timedelta(days=1)).month == first.month:
            moved += timedelta(days=1)
    return moved.strftime(STAMP)


def make_export(path: Path, replicas: int = REPLICAS) -> int:
    """The Chicago sample `replicas` times, new ids, copy k moved k months later; rows written."""
    with CHICAGO_CSV.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        rows = list(reader)
    col = {name: header.index(name) for name in ("ID", "Case Number", "Date", "Updated On", "Year")}
    written = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        for copy in range(replicas):
            for source in rows:
                row = list(source)
                row[col["ID"]] = str(int(row[col["ID"]]) + copy * ID_STEP)
                row[col["Case Number"]] = f"{row[col['Case Number']]}-{copy}"
                row[col["Date"]] = _months_later(row[col["Date"]], copy)
                row[col["Updated On"]] = _months_later(row[col["Updated On"]], copy)
                if row[col["Date"]]:
                    row[col["Year"]] = row[col["Date"]][6:10]
                writer.writerow(row)
                written += 1
    return written


def _openbeat(args: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "openbeat.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"openbeat {args[0]} failed ({proc.returncode}): {proc.stderr[-800:]}")
    return seconds, proc.stdout


def _raw_producer_rate(bootstrap: str, names: Any) -> float:
    """Events/s of a bare kafka-python producer sending what emit sent (same settings)."""
    from kafka import KafkaConsumer

    from openbeat.runtime.clients import make_producer
    from openbeat.runtime.settings import EmitSettings

    topic = names.raw("incident")
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap.split(","),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=5000,
    )
    messages = [(m.key, m.value) for m in consumer]
    consumer.close()
    target = names.raw("report")  # an empty topic of the bench namespace, nothing reads it
    settings = EmitSettings(kafka_bootstrap=bootstrap)
    producer = make_producer(
        bootstrap,
        client_id="bench-raw",
        linger_ms=settings.emit_linger_ms,
        batch_size=settings.emit_batch_bytes,
        compression=settings.emit_compression,
    )
    producer.partitions_for(target)
    started = time.perf_counter()
    for key, value in messages:
        producer.send(target, value=value, key=key)
    producer.flush()
    seconds = time.perf_counter() - started
    producer.close()
    return len(messages) / seconds


def _batch(export: Path, out: Path) -> float:
    proc = subprocess.run(
        [sys.executable, "-m", "bench.backfill_batch", str(export), str(out), KEY],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"batch script failed: {proc.stderr[-800:]}")
    return float(proc.stdout.split()[-1])


def run(bootstrap: str, replicas: int = REPLICAS) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="openbeat-bench-backfill-") as tmp:
        folder = Path(tmp)
        export = folder / "chicago-backfill.csv"
        rows = make_export(export, replicas)
        file_mb = round(export.stat().st_size / 2**20, 1)
        batch_before = _batch(export, folder / "batch-1.parquet")
        with bench_namespace(bootstrap) as names:
            env = {
                **os.environ,
                "OPENBEAT_KAFKA_BOOTSTRAP": bootstrap,
                "OPENBEAT_TOPIC_NAMESPACE": names.namespace,
                "OPENBEAT_JURISDICTION": "chicago",
                "OPENBEAT_STORE": str(folder / "store"),
                "OPENBEAT_PSEUDONYM_KEY": KEY,
                "OPENBEAT_RELEASE_INTERVAL_S": "0",
                "OPENBEAT_PUBLIC_BASE_URL": "https://data.chicago.example/openbeat/",
                "OPENBEAT_INSTANCE_ID": f"bench-{uuid.uuid4().hex[:6]}",
                "OPENBEAT_LOG_LEVEL": "WARNING",
            }
            emit_args = ["emit", str(export), "--kind", "incident", "--no-progress"]
            emit_s, emit_out = _openbeat([*emit_args, "--mapping", str(CHICAGO_MAP)], env)
            # `run --until-idle` runs the services one after another in this order; one
            # process per service gives the same work with a time for each.
            services: dict[str, float] = {}
            run_out = ""
            for service in SERVICES:
                services[service], out = _openbeat(["run", service, "--until-idle"], env)
                run_out += out
            run_s = sum(services.values())
            producer_rate = _raw_producer_rate(bootstrap, names)
            release_s, release_out = _openbeat(["release", "--cutoff", CUTOFF], env)
        batch_after = _batch(export, folder / "batch-2.parquet")
    batch_s = min(batch_before, batch_after)
    # "sent N events (...) in Xs, R/s": emit's own figure, from reading the file to the last ack
    rate = re.search(r"s, ([\d,]+)/s", emit_out)
    emit_rate = float(rate[1].replace(",", "")) if rate else float("nan")
    total = emit_s + run_s + release_s
    ratio = batch_s / total
    return {
        "what": "Chicago-shaped export (shipped sample x copies, new ids, each copy a month "
        "later): openbeat emit FILE -> run --until-idle -> release, each a fresh CLI process",
        "rows": rows,
        "file_mb": file_mb,
        "emit_s": round(emit_s, 1),
        "run_until_idle_s": round(run_s, 1),
        "run_until_idle_by_service_s": {k: round(v, 1) for k, v in services.items()},
        "release_s": round(release_s, 1),
        "backfill_s": round(total, 1),
        "backfill_rows_per_s": round(rows / total),
        "emit_rows_per_s": round(rows / emit_s),
        "emit_reported_events_per_s": emit_rate,
        "emit_raw_producer": "kafka-python sending the very messages emit sent (read back from "
        "the raw topic) to another topic, emit's producer settings: send loop + flush",
        "emit_raw_producer_events_per_s": round(producer_rate),
        "emit_ratio_to_raw_producer": round(emit_rate / producer_rate, 3),
        "emit_goal_ratio": 0.7,
        "baseline": "bench/backfill_batch.py: pyarrow CSV read, hundred block, grid snap, "
        "HMAC id, local hour truncation, one zstd Parquet file (faster of two runs)",
        "baseline_s": round(batch_s, 2),
        "baseline_all_s": [round(batch_before, 2), round(batch_after, 2)],
        "baseline_rows_per_s": round(rows / batch_s),
        "ratio": round(ratio, 4),
        "goal_ratio": GOAL_RATIO,
        "meets_goal": ratio >= GOAL_RATIO,
        "emit_summary": emit_out.strip().splitlines()[:4],
        "run_summary": run_out.strip().splitlines(),
        "release_summary": [line for line in release_out.splitlines() if "rows" in line][:8],
        "load_average_1m_at_end": round(os.getloadavg()[0], 2),
    }


if __name__ == "__main__":
    import json

    count = int(sys.argv[1]) if len(sys.argv) > 1 else REPLICAS
    target = os.environ.get("OPENBEAT_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
    print(json.dumps(run(target, count), indent=2))
