"""Reading an export file: its text checked first, then rows with the line each starts on.

Bad files fail as a whole before a single row is sent, with one sentence naming the file and the
fix: a directory, a binary file (NUL bytes), or text that is not in the expected encoding (the
line and byte are named, and a Latin-1 export can be read with the mapping's `encoding` key).

Rows are never lost to a broken quote. A CSV cell that opens a quote and never closes it on its
line makes the csv module swallow the following lines into that cell, so a valid row would
vanish. When a record spans several physical lines and either has the wrong number of cells or
one of its continuation lines is on its own a complete row of the header's width, the first line
is reported as an `__error__` row (unclosed quote) and the following lines are read again on
their own, each a row as usual. A genuine multi-line cell (a narrative with line breaks) whose
continuation lines do not look like whole rows is kept as it is.
"""

from __future__ import annotations

import codecs
import csv
import json
import logging
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

DEFAULT_ENCODING = "utf-8-sig"
_JSONL_SUFFIXES = (".jsonl", ".ndjson", ".json")
_CHUNK = 1 << 20
_BINARY_PROBE = 64 * 1024
# Rows are a few hundred bytes; a larger field is a broken file (an unclosed quote swallowing the
# rest of it), which is reported as such instead of exhausting memory.
FIELD_SIZE_LIMIT = 16 * 1024 * 1024
csv.field_size_limit(FIELD_SIZE_LIMIT)

Row = tuple[int, dict[str, Any]]


class FileProblem(ValueError):
    """The file as a whole cannot be read; the message names it and says what to do."""


def check_file(path: Path, encoding: str = DEFAULT_ENCODING) -> None:
    """Refuse a missing path, a directory, a binary file or text not in `encoding`."""
    if path.is_dir():
        raise FileProblem(
            f"{path} is a directory, not a file; give the path of a CSV or JSON Lines export "
            "inside it"
        )
    if not path.is_file():
        raise FileProblem(f"input file {path} not found (or not a file); check the path")
    wide = codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))
    decoder = codecs.getincrementaldecoder(encoding)()
    offset, newlines = 0, 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            if offset == 0 and not wide and b"\x00" in chunk[:_BINARY_PROBE]:
                raise FileProblem(
                    f"{path} looks like a binary file (it holds NUL bytes), not CSV or JSON "
                    "Lines text; export the data as CSV (a spreadsheet or archive must be saved "
                    "or unpacked as CSV first)"
                )
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise FileProblem(_not_text(path, encoding, chunk, exc, offset, newlines)) from None
            offset += len(chunk)
            newlines += chunk.count(b"\n")
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise FileProblem(
                f"{path}: the file ends in the middle of a character ({exc.reason}); it is "
                f"truncated or not {encoding} text"
            ) from None


def _not_text(
    path: Path, encoding: str, chunk: bytes, exc: UnicodeDecodeError, offset: int, newlines: int
) -> str:
    line = newlines + chunk.count(b"\n", 0, exc.start) + 1
    bad = chunk[exc.start : exc.start + 1].hex()
    return (
        f"{path}: line {line} is not {encoding} text (byte 0x{bad} at offset "
        f"{offset + exc.start}); re-export the file as UTF-8, or, if it is Latin-1 or "
        'Windows-1252, set encoding = "latin-1" (or "cp1252") in the mapping'
    )


def file_format(path: Path, declared: str | None = None, encoding: str = DEFAULT_ENCODING) -> str:
    """`csv` or `jsonl`: as declared, else from the file name, else from the first character."""
    if declared is not None:
        return declared
    if path.suffix.lower() == ".csv":
        return "csv"
    if path.suffix.lower() in _JSONL_SUFFIXES:
        return "jsonl"
    with path.open("r", encoding=encoding, errors="replace") as handle:
        head = handle.read(512).lstrip()
    return "jsonl" if head.startswith("{") else "csv"


def iter_rows(
    path: str | Path, fmt: str | None = None, encoding: str = DEFAULT_ENCODING
) -> Iterator[Row]:
    """(line where the row starts, row) for every data row; the CSV header is line 1.

    A CSV row with a different number of cells than the header, a CSV line with an unclosed
    quote, or a JSON line that is not an object, is yielded as a row holding only the key
    `__error__` so the caller can reject it with its line number.
    """
    path = Path(path)
    fmt = fmt or file_format(path, encoding=encoding)
    try:
        if fmt == "jsonl":
            yield from _jsonl_rows(path, encoding)
        else:
            yield from _csv_rows(path, encoding)
    except UnicodeDecodeError as exc:  # check_file normally catches this before any row
        raise FileProblem(f"{path}: not {encoding} text ({exc.reason}); re-export it") from exc


def csv_header(path: Path, encoding: str = DEFAULT_ENCODING) -> list[str]:
    """The stripped column names of a CSV file's first line."""
    with path.open("r", encoding=encoding, newline="") as handle:
        return [h.strip() for h in next(csv.reader(handle), [])]


class _Lines:
    """The file's physical lines, with lines pushed back to be read again on their own."""

    def __init__(self, handle: Any) -> None:
        self.handle = handle
        self.pending: deque[str] = deque()
        self.taken: list[str] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        line = self.pending.popleft() if self.pending else self.handle.readline()
        if not line:
            raise StopIteration
        self.taken.append(line)
        return line

    def push_back(self, lines: list[str]) -> None:
        self.pending.extendleft(reversed(lines))


def _csv_rows(path: Path, encoding: str) -> Iterator[Row]:
    with path.open("r", encoding=encoding, newline="") as handle:
        source = _Lines(handle)
        header = read_header(source)
        if header is None:
            return
        yield from csv_records(source, header, len(source.taken) + 1)


class LineSource:
    """Physical lines already read (a list, then optionally an open handle), read like a file:
    lets `csv_records` parse part of a file in another process, or resume after a prefix."""

    def __init__(self, lines: list[str], rest: Any = None) -> None:
        self.lines = lines
        self.at = 0
        self.rest = rest

    def readline(self) -> str:
        if self.at < len(self.lines):
            self.at += 1
            return self.lines[self.at - 1]
        return self.rest.readline() if self.rest is not None else ""


def read_header(source: _Lines) -> list[str] | None:
    """The stripped column names of the first record, None for an empty file."""
    cells = next(csv.reader(source), None)
    return None if cells is None else [h.strip() for h in cells]


def lines_of(handle: Any) -> _Lines:
    """A line source for `read_header` and `csv_records` over a handle with `readline()`."""
    return _Lines(handle)


def csv_records(source: _Lines, header: list[str], next_line: int) -> Iterator[Row]:
    """The rows of `source` (lines after the header, the first of them line `next_line`).

    The same rows whether a file is read whole or in parts split where every line before the
    split is a complete record (see `openbeat.emit.parallel`).
    """
    reader = csv.reader(source)
    while True:
        source.taken = []
        start = next_line
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # a cell over the size limit: a quote swallowed the file
            cells, reader = None, csv.reader(source)
            logger.debug("line %d: %s", start, exc)
        taken = source.taken
        if cells is None or (len(taken) > 1 and _swallowed(cells, taken, len(header))):
            yield start, {"__error__": _UNCLOSED.format(line=start, n=len(taken) - 1)}
            source.push_back(taken[1:])
            next_line = start + 1
            continue
        next_line = start + len(taken)
        if not cells or cells == [""]:
            continue
        if len(cells) != len(header):
            message = f"row has {len(cells)} cells but the header has {len(header)}"
            yield start, {"__error__": message}
            continue
        yield start, dict(zip(header, cells, strict=True))


_UNCLOSED = (
    "line {line} opens a quoted cell that is not closed on its line, which swallowed the next "
    "{n} line(s); those lines were read again on their own. Close the quote (a quote inside a "
    'cell is written "")'
)


def _swallowed(cells: list[str], taken: list[str], width: int) -> bool:
    """True when a multi-line record is most likely an unclosed quote eating whole rows."""
    if len(cells) != width:
        return True
    for line in taken[1:]:
        alone = next(csv.reader([line]), [])
        if len(alone) == width:
            return True
    return False


def _jsonl_rows(path: Path, encoding: str) -> Iterator[Row]:
    with path.open("r", encoding=encoding) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield number, {"__error__": f"not valid JSON: {exc.msg} at column {exc.colno}"}
                continue
            if not isinstance(obj, dict):
                yield number, {"__error__": "a JSON line must be an object"}
                continue
            yield number, obj
