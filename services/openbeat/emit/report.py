"""What an import did, row by row: the tally, the summary an engineer reads, the rejects file.

Every source row is counted exactly once, as part of a sent (or would-be-sent) record, as
skipped by a named rule, or as part of a rejected record; `ImportTally.rows` is their sum, so a
row that vanished would show as a mismatch with the file. The most frequent values no map had,
per field, say which codes to map next. Pure bookkeeping: the command prints and exits on it.

The rejects file is written only where the user asked (`--rejects PATH`) and is created, never
replaced: an existing path (a file, a device, a directory) is refused before anything is read,
and nothing is ever deleted.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from openbeat.emit.importer import ImportResult

logger = logging.getLogger(__name__)

TOP_UNMAPPED = 5


class RejectsFileError(ValueError):
    """The rejects path cannot be used; nothing was read or sent."""


@dataclass
class ImportTally:
    """Counts by outcome; records and groups as well as rows."""

    records: int = 0  # sent, or would be in a dry run
    record_rows: int = 0
    rejected: Counter[str] = field(default_factory=Counter)  # records by reason code
    rejected_rows: int = 0
    skipped_rows: Counter[str] = field(default_factory=Counter)  # rows by rule name
    skipped_groups: int = 0  # records none of whose rows were kept
    unmapped: Counter[tuple[str, str]] = field(default_factory=Counter)

    def add(self, result: ImportResult) -> None:
        for _, rule in result.skipped:
            self.skipped_rows[rule] += 1
        rows = len(result.lines) or 1
        if result.outcome == "sent":
            self.records += 1
            self.record_rows += rows
        elif result.outcome == "rejected":
            self.rejected[result.code or "rejected"] += 1
            self.rejected_rows += rows
            if result.unmapped is not None:
                self.unmapped[result.unmapped] += 1
        else:
            self.skipped_groups += 1

    def merge(self, other: ImportTally) -> None:
        """Add the counts of a later part of the same import (counters keep first-seen order,
        so merging parts in file order gives the same summary as one pass)."""
        self.records += other.records
        self.record_rows += other.record_rows
        self.rejected.update(other.rejected)
        self.rejected_rows += other.rejected_rows
        self.skipped_rows.update(other.skipped_rows)
        self.skipped_groups += other.skipped_groups
        self.unmapped.update(other.unmapped)

    @property
    def rows(self) -> int:
        return self.record_rows + self.rejected_rows + sum(self.skipped_rows.values())

    def reject_rate(self) -> float:
        """Rejected rows over the rows not skipped on purpose (0 when there are none)."""
        considered = self.record_rows + self.rejected_rows
        return self.rejected_rows / considered if considered else 0.0

    def summary(self, dry_run: bool) -> list[str]:
        verb = "would be sent" if dry_run else "sent"
        lines = [
            f"{self.rows} rows: {self.records} records {verb} (from {self.record_rows} rows), "
            f"{sum(self.skipped_rows.values())} rows skipped by rule, "
            f"{sum(self.rejected.values())} records rejected ({self.rejected_rows} rows)"
        ]
        if self.skipped_rows:
            named = ", ".join(f"{rule} {n}" for rule, n in self.skipped_rows.most_common())
            groups = f"; {self.skipped_groups} records skipped whole" if self.skipped_groups else ""
            lines.append(f"skipped rows by rule: {named}{groups}")
        if self.rejected:
            lines.append(
                "rejected by reason: "
                + ", ".join(f"{code} {n}" for code, n in self.rejected.most_common())
            )
        by_field: dict[str, Counter[str]] = {}
        for (name, value), n in self.unmapped.items():
            by_field.setdefault(name, Counter())[value] = n
        for name in sorted(by_field):
            top = by_field[name].most_common(TOP_UNMAPPED)
            values = ", ".join(f"{value!r} {n}" for value, n in top)
            more = len(by_field[name]) - len(top)
            tail = f" (and {more} more)" if more > 0 else ""
            lines.append(f"unmapped values of {name} (map them next): {values}{tail}")
        return lines


def open_rejects(path: Path | None) -> IO[str] | None:
    """A new rejects file at `path` (None: none asked for). Refuses any existing path."""
    if path is None:
        return None
    if path.exists() or path.is_symlink():
        raise RejectsFileError(
            f"--rejects {path} already exists; openbeat never replaces a file it did not "
            "create: give a new path or remove it yourself"
        )
    try:
        return path.open("x", encoding="utf-8")
    except FileExistsError:
        raise RejectsFileError(
            f"--rejects {path} appeared while starting; give a new path"
        ) from None
    except OSError as exc:
        raise RejectsFileError(f"--rejects {path}: cannot create it ({exc.strerror})") from None


def reject_line(path: Path, result: ImportResult) -> str:
    """One JSON line of the rejects file: file, first line, every line, code, field, reason."""
    entry: dict[str, Any] = {
        "file": str(path),
        "line": result.line,
        "lines": list(result.lines or (result.line,)),
        "code": result.code,
        "field": result.field,
        "reason": result.reason,
    }
    return json.dumps(entry, ensure_ascii=False) + "\n"
