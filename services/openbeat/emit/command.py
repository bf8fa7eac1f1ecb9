"""`openbeat emit`: synthetic samples or an agency export, sent to the raw topics.

For a file import, every row is accounted for: sent, or rejected with its line number and reason
in the summary and in a rejects file (JSON Lines). The exit code is non-zero when any send failed;
rejected rows are reported, not failures of the command.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tqdm import tqdm

from openbeat.contracts.codec import SchemaStore
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.emit.prepare import SamplePipeline
from openbeat.emit.producer import RawSender
from openbeat.runtime.clients import make_producer
from openbeat.runtime.settings import EmitSettings
from openbeat.runtime.topics import TopicNames

logger = logging.getLogger(__name__)


def _sender(settings: EmitSettings, schemas: SchemaStore | None = None) -> RawSender:
    producer = make_producer(
        settings.kafka_bootstrap,
        client_id="openbeat-emit",
        linger_ms=settings.emit_linger_ms,
        batch_size=settings.emit_batch_bytes,
        compression=settings.emit_compression,
    )
    names = TopicNames(settings.topic_namespace)
    return RawSender(producer, schemas or SchemaStore.load(settings.schemas_dir), names)


def _finish(sender: RawSender, started: float, rejected: Counter[str] | None = None) -> int:
    sender.flush()  # a no-op when already flushed; settles every future either way
    sender.producer.close(timeout=30)
    tally = sender.tally
    elapsed = max(time.perf_counter() - started, 1e-9)
    sent = sum(tally.acknowledged.values())
    by_kind = ", ".join(f"{k} {v}" for k, v in sorted(tally.acknowledged.items())) or "none"
    print(f"sent {sent} events ({by_kind}) in {elapsed:.1f}s, {sent / elapsed:,.0f}/s")
    if rejected:
        total = sum(rejected.values())
        reasons = ", ".join(f"{code} {n}" for code, n in rejected.most_common())
        print(f"rejected {total} rows: {reasons}")
    if tally.total_failed:
        print(f"FAILED to send {tally.total_failed} events:", file=sys.stderr)
        for line in tally.errors:
            print(f"  {line}", file=sys.stderr)
        return 1
    return 0


def send_sample(
    pipeline: SamplePipeline, make_sender: Callable[[], RawSender], progress: bool = False
) -> RawSender:
    """Send every chunk the pipeline makes, then flush; the sender's tally says what happened.

    The sender is made only after the pipeline has forked its workers (see SamplePipeline).
    `make bench` times this same function for its `emit --sample` figure.
    """
    with pipeline as chunks:
        sender = make_sender()
        total = sum(pipeline.sizes)
        with tqdm(total=total, unit="ev", disable=not progress, file=sys.stderr) as bar:
            for chunk in chunks:
                sender.send_prepared(chunk)
                bar.update(len(chunk))
        sender.flush()
    return sender


def emit_sample(n: int, seed: int, progress: bool = True) -> int:
    settings = EmitSettings()
    jurisdiction = load_jurisdiction(settings.jurisdiction)
    schemas = SchemaStore.load(settings.schemas_dir)
    # The sample is anchored to the current hour so that meetings are upcoming and incidents
    # recent, yet two runs within the hour with one seed emit identical events.
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    started = time.perf_counter()
    pipeline = SamplePipeline(n, seed, jurisdiction, now, schemas)
    sender = send_sample(pipeline, lambda: _sender(settings, schemas), progress)
    return _finish(sender, started)


def emit_file(
    path: Path, kind: str, mapping_path: Path | None, rejects_path: Path | None, progress: bool
) -> int:
    from openbeat.contracts.offenses import load_offense_table
    from openbeat.contracts.validation import ValidationContext
    from openbeat.emit.importer import count_rows, import_file, load_import_mapping

    settings = EmitSettings()
    jurisdiction = load_jurisdiction(settings.jurisdiction)
    mapping = load_import_mapping(mapping_path, kind)
    ctx = ValidationContext(
        jurisdiction=jurisdiction,
        offenses=load_offense_table(),
        now=datetime.now(UTC),
        future_skew=timedelta(minutes=5),
    )
    results = import_file(path, kind, mapping, jurisdiction, ctx)
    # In the working directory, not beside the export: exports often sit on read-only shares.
    rejects_path = rejects_path or Path.cwd() / (path.name + ".rejects.jsonl")
    sender = _sender(settings)
    started = time.perf_counter()
    rejected: Counter[str] = Counter()
    total = count_rows(path) if progress else None
    with rejects_path.open("w", encoding="utf-8") as rejects:
        for result in tqdm(results, total=total, unit="row", disable=not progress, file=sys.stderr):
            if result.record is not None:
                sender.send(kind, result.record)
                continue
            rejected[result.code or "rejected"] += 1
            rejects.write(json.dumps(_reject_line(path, result), ensure_ascii=False) + "\n")
    code = _finish(sender, started, rejected)
    if rejected:
        print(f"rejected rows with reasons: {rejects_path}")
    else:
        rejects_path.unlink(missing_ok=True)
    return code


def _reject_line(path: Path, result: Any) -> dict[str, Any]:
    return {
        "file": str(path),
        "line": result.line,
        "code": result.code,
        "field": result.field,
        "reason": result.reason,
    }


def emit_command(args: argparse.Namespace) -> int:
    progress = not args.no_progress and sys.stderr.isatty()
    if args.sample is not None:
        if args.sample < 0:
            raise ValueError("--sample needs a count of 0 or more")
        return emit_sample(args.sample, args.seed, progress)
    if not args.kind:
        raise ValueError("importing a file needs --kind incident|report|engagement")
    path = Path(args.file)
    if not path.is_file():
        raise ValueError(f"{path}: no such file; give the path of a CSV or JSON Lines export")
    mapping = Path(args.mapping) if args.mapping else None
    rejects = Path(args.rejects) if args.rejects else None
    return emit_file(path, args.kind, mapping, rejects, progress)
