"""`emit FILE` converts rows in worker processes: same records, bytes, order, tally and rejects
as the one-process import (`import_file`, then one encoded send per record), whatever the file.

The comparison is of everything the command sends and prints: the (topic kind, key, Avro bytes,
partition hash) sequence, the summary lines and the rejects file lines. Chunks are made small
here so that the files below cross many chunk boundaries, with broken quotes and multi-line
cells before, on and after a boundary.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from data_files import CHICAGO_CSV, SF_CSV
from openbeat.contracts.codec import KIND_SCHEMAS, SchemaStore
from openbeat.contracts.examples import example_report
from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.contracts.offenses import load_offense_table
from openbeat.contracts.validation import ValidationContext
from openbeat.emit import parallel
from openbeat.emit.importer import import_file
from openbeat.emit.parallel import ImportPipeline
from openbeat.emit.producer import event_key, key_hash
from openbeat.emit.report import ImportTally, reject_line
from openbeat.paths import INFRA_DIR, SCHEMAS_DIR

NOW = datetime(2026, 12, 1, tzinfo=UTC)
CHICAGO_MAP = INFRA_DIR / "mappings" / "chicago-crimes.toml"
SF_MAP = INFRA_DIR / "mappings" / "sf-incidents.toml"
SCHEMAS = SchemaStore.load(SCHEMAS_DIR)
CHUNK = 50


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel, "CHUNK_ROWS", CHUNK)


Outcome = tuple[list[tuple[str, bytes, bytes, int]], list[str], list[str]]


def serial(path: Path, kind: str, mapping: Path | None, city: str) -> Outcome:
    """What `emit FILE` did with one process: import_file, one encoded send per record."""
    jurisdiction = load_jurisdiction(city)
    ctx = ValidationContext(jurisdiction, load_offense_table(), NOW)
    sent, rejects, tally = [], [], ImportTally()
    for result in import_file(path, kind, mapping, jurisdiction, ctx):
        tally.add(result)
        if result.record is not None:
            key = event_key(kind, result.record)
            value = SCHEMAS.encode(KIND_SCHEMAS[kind], result.record)
            sent.append((kind, key, value, key_hash(key)))
        elif result.code is not None:
            rejects.append(reject_line(path, result))
    return sent, tally.summary(False), rejects


def pooled(path: Path, kind: str, mapping: Path | None, city: str, workers: int) -> Outcome:
    jurisdiction = load_jurisdiction(city)
    ctx = ValidationContext(jurisdiction, load_offense_table(), NOW)
    sent, rejects, tally = [], [], ImportTally()
    pipeline = ImportPipeline(path, kind, mapping, jurisdiction, ctx, SCHEMAS, workers=workers)
    with pipeline as chunks:
        for chunk in chunks:
            tally.merge(chunk.tally)
            sent.extend(chunk.prepared)
            rejects.extend(reject_line(path, r) for r in chunk.rejected)
    return sent, tally.summary(False), rejects


def chicago_lines() -> list[str]:
    return CHICAGO_CSV.read_text(encoding="utf-8-sig").splitlines(keepends=True)


def assert_same(path: Path, kind: str, mapping: Path | None, city: str) -> Outcome:
    expected = serial(path, kind, mapping, city)
    assert pooled(path, kind, mapping, city, workers=2) == expected
    assert pooled(path, kind, mapping, city, workers=0) == expected
    return expected


def test_chicago_export_gives_the_same_sends_summary_and_rejects() -> None:
    sent, summary, rejects = assert_same(CHICAGO_CSV, "incident", CHICAGO_MAP, "chicago")
    assert len(sent) > 6000 and rejects  # rows without a district are rejected
    assert summary[0].startswith("6957 rows")


@pytest.mark.parametrize("at", [CHUNK, CHUNK + 1, 3 * CHUNK + 7])
def test_broken_quotes_and_multi_line_cells_anywhere_give_the_same_result(
    tmp_path: Path, at: int
) -> None:
    lines = chicago_lines()[: 8 * CHUNK]
    head = lines[at].split(",", 5)  # the first cells hold no quote or comma
    lines[at] = ",".join([*head[:5], '"' + head[5]])  # Primary Type opens a quote
    # A literal quote inside an unquoted cell, then a quoted cell left open: an even number of
    # quotes on the line, yet the record runs on into the next line.
    lines[at + 2] = lines[at + 2].replace(",false,", ',fa"lse,"x,', 1)
    lines[at + 20] = lines[at + 20].replace(",STREET,", ',"STR\nEET",', 1)
    path = tmp_path / "broken.csv"
    path.write_text("".join(lines), encoding="utf-8")
    _, _, rejects = assert_same(path, "incident", CHICAGO_MAP, "chicago")
    assert any('"bad_row"' in line for line in rejects)


def test_an_open_quote_on_a_chunk_s_last_line_is_read_as_one_process_reads_it(
    tmp_path: Path,
) -> None:
    lines = chicago_lines()[: 4 * CHUNK]
    lines[CHUNK] = lines[CHUNK].rstrip("\n") + ',"x\n'  # header + CHUNK lines: the last of chunk 1
    path = tmp_path / "edge.csv"
    path.write_text("".join(lines), encoding="utf-8")
    assert_same(path, "incident", CHICAGO_MAP, "chicago")


def test_grouped_export_gives_the_same_sends_summary_and_rejects() -> None:
    sent, summary, _ = assert_same(SF_CSV, "incident", SF_MAP, "sf")
    assert sent and "skipped" in summary[0]


def test_json_lines_give_the_same_result(tmp_path: Path) -> None:
    records: list[dict[str, Any]] = []
    for i in range(3 * CHUNK):
        good = example_report()
        good["report_id"] = f"R-{i}"
        good["submitted_at"] = "2024-05-01T12:00:00Z" if i % 7 else "2024-05-01T12:00:00"
        records.append(good)
    path = tmp_path / "reports.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n\nnot json\n", encoding="utf-8")
    sent, _, rejects = assert_same(path, "report", None, "sample")
    assert len(sent) == len(records) - len(range(0, 3 * CHUNK, 7))
    assert len(rejects) == len(range(0, 3 * CHUNK, 7)) + 1
