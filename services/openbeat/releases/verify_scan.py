"""The verifier's report and its scan of published text for personal data.

`VerifyReport` collects one problem line per finding, naming the object key. `Scan` runs the
`PiiScanner` over text in ~1 MB blocks (one regex pass per block instead of one per cell) and
caps the findings listed per object; `scan_object` reads an object outside the release folders
(feeds, site pages, calendars, GeoJSON, the catalog, pointers) the way a reader would see it:
calendars unfolded, Avro decoded.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import fastavro
import pyarrow as pa
import pyarrow.parquet as pq

from openbeat.releases.pii import PiiScanner, describe
from openbeat.store.base import ObjectStore

logger = logging.getLogger(__name__)

# At most this many findings per object and kind are listed; the rest are counted.
MAX_FINDINGS_PER_OBJECT = 5
SEPARATOR = "\x00"
BLOCK_CHARS = 1 << 20


@dataclass(frozen=True)
class Problem:
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.key}: {self.message}"


@dataclass
class VerifyReport:
    problems: list[Problem] = field(default_factory=list)
    releases_checked: int = 0
    objects_scanned: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, key: str, message: str) -> None:
        self.problems.append(Problem(key, message))

    def lines(self) -> list[str]:
        return [str(p) for p in self.problems]

    def summary(self) -> str:
        state = "OK" if self.ok else f"FAILED with {len(self.problems)} problem(s)"
        return (
            f"verify {state}: {self.releases_checked} release(s) checked, "
            f"{self.objects_scanned} object(s) scanned for personal data"
        )

    def __str__(self) -> str:
        return "\n".join([*self.lines(), self.summary()])


def blocks(texts: Iterable[str]) -> Iterator[str]:
    """Cells joined into ~1 MB blocks: one regex pass per block instead of one per cell.

    NUL separates the cells: no pattern matches across it (it is neither a word character nor
    whitespace), so a finding never spans two cells.
    """
    pending: list[str] = []
    size = 0
    for text in texts:
        if not text:
            continue
        pending.append(text.replace(SEPARATOR, " "))
        size += len(text) + 1
        if size >= BLOCK_CHARS:
            yield SEPARATOR.join(pending)
            pending, size = [], 0
    if pending:
        yield SEPARATOR.join(pending)


class Scan:
    """PII scanning that caps the findings reported per object."""

    def __init__(self, scanner: PiiScanner, report: VerifyReport) -> None:
        self.scanner = scanner
        self.report = report

    def texts(self, key: str, texts: Iterable[str]) -> None:
        found = 0
        for block in blocks(texts):
            for finding in self.scanner.scan(block):
                found += 1
                if found <= MAX_FINDINGS_PER_OBJECT:
                    self.report.add(key, f"personal data: {describe(finding)}")
        if found > MAX_FINDINGS_PER_OBJECT:
            self.report.add(
                key, f"personal data: {found - MAX_FINDINGS_PER_OBJECT} more finding(s)"
            )
        self.report.objects_scanned += 1


def parquet_strings(pfile: pq.ParquetFile) -> Iterable[str]:
    """Every string cell of a Parquet file (list cells flattened), one joined string per
    column and batch so the scanner's blocks stay cheap."""
    for batch in pfile.iter_batches():
        for column in batch.columns:
            t = column.type
            if pa.types.is_list(t) or pa.types.is_large_list(t):
                column, t = column.flatten(), t.value_type
            if pa.types.is_string(t) or pa.types.is_large_string(t):
                yield SEPARATOR.join(v.replace(SEPARATOR, " ") for v in column.to_pylist() if v)


def text_chunks(local: Path) -> Iterator[str]:
    """A CSV file in ~1 MB pieces cut at line ends, a NUL after each line end so no pattern
    spans two rows (commas already stop every pattern within a row)."""
    with open(local, encoding="utf-8", errors="replace", newline="") as fh:
        rest = ""
        while chunk := fh.read(BLOCK_CHARS):
            text = rest + chunk
            cut = text.rfind("\n") + 1
            if cut == 0:
                rest = text
                continue
            rest = text[cut:]
            yield text[:cut].replace("\n", "\n" + SEPARATOR)
        if rest:
            yield rest


def unfold_calendar(text: str) -> str:
    """RFC 5545 folds long lines (CRLF + one space or tab); the scan reads them unfolded, else
    a fold after a digit glues it to the next line's block ('1' + '10XX N 63RD PL')."""
    return text.replace("\r\n ", "").replace("\r\n\t", "")


def scan_object(store: ObjectStore, key: str, scan: Scan) -> None:
    """PII scan of an object outside the release folders (feeds, site, catalog, pointers)."""
    data = store.get(key)
    if key.endswith(".avro"):
        try:
            records = list(fastavro.reader(io.BytesIO(data)))
        except (ValueError, EOFError, fastavro.read.SchemaResolutionError) as exc:
            scan.report.add(key, f"unreadable Avro: {exc}")
            return
        scan.texts(key, [json.dumps(r, default=str, ensure_ascii=False) for r in records])
        return
    text = data.decode("utf-8", errors="replace")
    if key.endswith(".ics"):
        text = unfold_calendar(text)
    scan.texts(key, [text])
