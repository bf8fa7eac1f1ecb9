"""`openbeat emit`: synthetic samples or an agency export, sent to the raw topics.

For a file import, every row is accounted for: sent (or, with `--dry-run`, counted as it would
be, with no broker), skipped by a named rule, or rejected with its line number and reason, in the
summary and, where asked (`--rejects PATH`), in a rejects file (JSON Lines). The exit code is
non-zero when any send failed, every row was rejected, or rejects exceed `--max-reject-rate`.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

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


def _finish(sender: RawSender, started: float) -> int:
    sender.flush()  # a no-op when already flushed; settles every future either way
    sender.producer.close(timeout=30)
    tally = sender.tally
    elapsed = max(time.perf_counter() - started, 1e-9)
    sent = sum(tally.acknowledged.values())
    by_kind = ", ".join(f"{k} {v}" for k, v in sorted(tally.acknowledged.items())) or "none"
    print(f"sent {sent} events ({by_kind}) in {elapsed:.1f}s, {sent / elapsed:,.0f}/s")
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
    path: Path,
    kind: str,
    mapping_path: Path | None,
    rejects_path: Path | None,
    progress: bool,
    dry_run: bool = False,
    max_reject_rate: float | None = None,
) -> int:
    """Import one export: send (or, dry, only count) its records; the exit code says how it went.

    Non-zero when any send failed, when every row was rejected, or when the rejected share of
    the rows not skipped by a rule exceeds `max_reject_rate` (checked at the end: run with
    `--dry-run` first to learn the rate without sending anything).
    """
    from openbeat.contracts.offenses import load_offense_table
    from openbeat.contracts.validation import ValidationContext
    from openbeat.emit.importer import count_rows, load_import_mapping
    from openbeat.emit.parallel import ImportPipeline
    from openbeat.emit.report import ImportTally, open_rejects, reject_line

    settings = EmitSettings()
    jurisdiction = load_jurisdiction(settings.jurisdiction)
    mapping = load_import_mapping(mapping_path, kind)
    ctx = ValidationContext(
        jurisdiction=jurisdiction,
        offenses=load_offense_table(),
        now=datetime.now(UTC),
        future_skew=timedelta(minutes=5),
    )
    schemas = None if dry_run else SchemaStore.load(settings.schemas_dir)
    # Whole-file checks first: a bad path or mapping fails before anything forks or connects.
    pipeline = ImportPipeline(path, kind, mapping, jurisdiction, ctx, schemas)
    rejects = open_rejects(rejects_path)
    sender = None
    started = time.perf_counter()
    tally = ImportTally()
    total = count_rows(path, mapping.encoding if mapping else "utf-8-sig") if progress else None
    try:
        with (
            pipeline as chunks,  # workers forked before the producer starts its I/O thread
            tqdm(total=total, unit="row", disable=not progress, file=sys.stderr) as bar,
        ):
            sender = None if schemas is None else _sender(settings, schemas)
            for chunk in chunks:
                tally.merge(chunk.tally)
                if sender is not None:
                    sender.send_prepared(chunk.prepared)
                if rejects is not None:
                    for result in chunk.rejected:
                        rejects.write(reject_line(path, result))
                bar.update(chunk.tally.rows)
    finally:
        if rejects is not None:
            rejects.close()
    code = 0 if sender is None else _finish(sender, started)
    for line in tally.summary(dry_run):
        print(line)
    if tally.rejected and rejects_path is not None:
        print(f"rejected rows with reasons: {rejects_path}")
    elif tally.rejected:
        print("pass --rejects PATH to list every rejected row with its line and reason")
    if tally.rejected_rows and not tally.record_rows:
        print("FAILED: every row was rejected; check the mapping", file=sys.stderr)
        code = code or 1
    rate = tally.reject_rate()
    if max_reject_rate is not None and rate > max_reject_rate:
        print(
            f"FAILED: {rate:.1%} of the rows were rejected, over --max-reject-rate "
            f"{max_reject_rate:g}",
            file=sys.stderr,
        )
        code = code or 1
    return code


def emit_command(args: argparse.Namespace) -> int:
    progress = not args.no_progress and sys.stderr.isatty()
    if args.sample is not None:
        if args.sample < 0:
            raise ValueError("--sample needs a count of 0 or more")
        return emit_sample(args.sample, args.seed, progress)
    if not args.kind:
        raise ValueError("importing a file needs --kind incident|report|engagement")
    rate = args.max_reject_rate
    if rate is not None and not 0 <= rate <= 1:
        raise ValueError("--max-reject-rate is a share of the rows, from 0 to 1 (e.g. 0.05)")
    mapping = Path(args.mapping) if args.mapping else None
    rejects = Path(args.rejects) if args.rejects else None
    return emit_file(
        Path(args.file), args.kind, mapping, rejects, progress, args.dry_run, args.max_reject_rate
    )
