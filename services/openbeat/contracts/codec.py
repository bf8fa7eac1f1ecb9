"""Avro single-object encoding and the schema store every producer and consumer shares.

Wire format (Avro specification, "Single-object encoding"; SPEC 3):

    C3 01 | 8-byte little-endian CRC-64-AVRO fingerprint of the writer schema | Avro binary body

`SchemaStore.load(schemas_dir)` reads every `<kind>.v<N>.avsc` below the folder once, parses them
with fastavro, indexes writer schemas by fingerprint and refuses a new version that older data
could not be read with (see contracts/compat.py). `decode` resolves the writer schema by
fingerprint and reads into the newest version of that record (Avro schema resolution), so
consumers only ever see the current shape. Every problem with input bytes is a `ContractError`
with a machine-readable code; nothing else escapes `decode` for any bytes.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import Any

from fastavro import parse_schema, schemaless_reader, schemaless_writer

from openbeat.contracts.compat import compatibility_problems
from openbeat.contracts.errors import ContractError, SchemaStoreError
from openbeat.contracts.fingerprint import fingerprint, fingerprint_bytes
from openbeat.paths import SCHEMAS_DIR

logger = logging.getLogger(__name__)

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
HEADER_SIZE = len(SINGLE_OBJECT_MAGIC) + 8
# 1 MiB: the Kafka default max.message.bytes is about 1 MB, and a real incident is a few KB even
# with a long narrative, so anything bigger is a mistake or an attack on the decoder.
DEFAULT_MAX_BYTES = 1 << 20
# Keeps library messages quoted in `detail` to one readable line.
_MAX_REASON_CHARS = 200

# The record each input kind is emitted as (`openbeat emit --kind`, topic routing).
KIND_SCHEMAS: dict[str, str] = {
    "incident": "openbeat.raw.Incident",
    "report": "openbeat.raw.Report",
    "engagement": "openbeat.raw.Engagement",
}

_FILE_NAME = re.compile(r"^(?P<kind>[a-z][a-z0-9_-]*)\.v(?P<version>[1-9][0-9]*)\.avsc$")


@dataclass(frozen=True)
class SchemaVersion:
    """One `.avsc` file: a version of a record schema, parsed once."""

    full_name: str
    kind: str
    version: int
    path: Path
    raw: dict[str, Any] = field(repr=False)
    parsed: dict[str, Any] = field(repr=False)
    fingerprint: int
    # C3 01 + fingerprint: the prefix of every message written with this version.
    header: bytes = field(repr=False)
    # Top-level timestamp fields, checked for naive datetimes on encode.
    timestamp_fields: tuple[str, ...] = field(repr=False, default=())


@dataclass(frozen=True)
class Decoded:
    """A decoded event: which record and writer version it came as, read into the current shape."""

    full_name: str
    writer_version: int
    record: dict[str, Any]


class SchemaStore:
    """All schema versions by full name and by fingerprint. Immutable once built; thread-safe."""

    def __init__(self, versions: Iterable[SchemaVersion], *, max_bytes: int = DEFAULT_MAX_BYTES):
        self.max_bytes = max_bytes
        self._by_name: dict[str, dict[int, SchemaVersion]] = {}
        self._by_fingerprint: dict[int, SchemaVersion] = {}
        for sv in sorted(versions, key=lambda v: (v.full_name, v.version)):
            self._by_name.setdefault(sv.full_name, {})[sv.version] = sv
            # Two versions differing only in docs share a fingerprint (same canonical form, same
            # bytes); the lower version claims it, which is the one that was published first.
            self._by_fingerprint.setdefault(sv.fingerprint, sv)
        self._latest = {name: vs[max(vs)] for name, vs in self._by_name.items()}

    @classmethod
    def load(
        cls,
        schemas_dir: Path = SCHEMAS_DIR,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        check_compatibility: bool = True,
    ) -> SchemaStore:
        """Load every `*.avsc` under `schemas_dir`; SchemaStoreError names the file and reason."""
        paths = sorted(Path(schemas_dir).rglob("*.avsc"))
        if not paths:
            raise SchemaStoreError(f"{schemas_dir}: no *.avsc schema files found")
        versions = [_load_file(p) for p in paths]
        _check_consistency(versions)
        store = cls(versions, max_bytes=max_bytes)
        if check_compatibility:
            store._check_compatibility()
        logger.debug(
            "loaded %d schema versions of %d records from %s",
            len(versions),
            len(store.names),
            schemas_dir,
        )
        return store

    # -- lookups ---------------------------------------------------------------------------

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_name))

    def versions(self, full_name: str) -> tuple[int, ...]:
        return tuple(sorted(self._versions_of(full_name)))

    def schema(self, full_name: str, version: int | None = None) -> SchemaVersion:
        """A version of a record (default: the newest, i.e. the reader schema)."""
        if version is None:
            self._versions_of(full_name)
            return self._latest[full_name]
        try:
            return self._versions_of(full_name)[version]
        except KeyError:
            known = ", ".join(f"v{v}" for v in self.versions(full_name))
            raise SchemaStoreError(
                f"{full_name} has no version {version} (known: {known})"
            ) from None

    def latest(self, full_name: str) -> SchemaVersion:
        return self.schema(full_name)

    def by_fingerprint(self, value: int) -> SchemaVersion | None:
        return self._by_fingerprint.get(value)

    def _versions_of(self, full_name: str) -> dict[int, SchemaVersion]:
        try:
            return self._by_name[full_name]
        except KeyError:
            known = ", ".join(self.names)
            raise SchemaStoreError(f"no schema named {full_name} (known: {known})") from None

    # -- wire format -----------------------------------------------------------------------

    def encode(
        self, full_name: str, record: Mapping[str, Any], version: int | None = None
    ) -> bytes:
        """Single-object encode `record` with a version of `full_name` (default: the newest).

        Raises ContractError("invalid_record" | "timestamp_not_utc" | "too_large") when the record
        cannot be sent, so a producer can report the row instead of emitting a poison message.
        """
        sv = self._latest.get(full_name) if version is None else None
        if sv is None:
            sv = self.schema(full_name, version)
        for name in sv.timestamp_fields:
            value = record.get(name)
            if isinstance(value, datetime) and value.tzinfo is None:
                raise ContractError(
                    "timestamp_not_utc",
                    f"field {name} is a naive datetime ({value.isoformat()}); give a "
                    "timezone-aware datetime so the instant is unambiguous",
                )
        buffer = BytesIO()
        buffer.write(sv.header)
        try:
            schemaless_writer(buffer, sv.parsed, record)
        except Exception as exc:  # fastavro raises ValueError/TypeError/KeyError/... per type
            raise ContractError(
                "invalid_record",
                f"record does not match {full_name} v{sv.version}: {_reason(exc)}",
            ) from exc
        data = buffer.getvalue()
        if len(data) > self.max_bytes:
            raise ContractError(
                "too_large",
                f"encoded record is {len(data)} bytes, over the {self.max_bytes}-byte limit",
            )
        return data

    def decode(self, data: bytes | None, expected_full_name: str | None = None) -> Decoded:
        """Decode a single-object encoded message into the current reader schema of its record."""
        if not data:
            raise ContractError("not_single_object", "the message is empty (no value bytes)")
        size = len(data)
        if size > self.max_bytes:
            raise ContractError(
                "too_large", f"the message is {size} bytes, over the {self.max_bytes}-byte limit"
            )
        if data[:2] != SINGLE_OBJECT_MAGIC:
            hint = (
                "; it looks like JSON, which needs the header content-type: application/json"
                if data[:1] in (b"{", b"[")
                else ""
            )
            raise ContractError(
                "not_single_object",
                "the message does not start with the Avro single-object marker C3 01" + hint,
            )
        if size < HEADER_SIZE:
            raise ContractError(
                "truncated",
                f"the message is {size} bytes, shorter than the {HEADER_SIZE}-byte "
                "single-object header",
            )
        fp = int.from_bytes(data[2:HEADER_SIZE], "little")
        writer = self._by_fingerprint.get(fp)
        if writer is None:
            raise ContractError(
                "unknown_fingerprint",
                f"writer schema fingerprint {fp:016x} matches no schema in schemas/; "
                "register the schema version before emitting with it",
            )
        if expected_full_name is not None and writer.full_name != expected_full_name:
            raise ContractError(
                "wrong_schema",
                f"the message is a {writer.full_name} v{writer.version} but this topic carries "
                f"{expected_full_name}",
            )
        reader = self._latest[writer.full_name]
        body = BytesIO(data[HEADER_SIZE:])
        record = _read_body(body, writer, reader)
        left = size - HEADER_SIZE - body.tell()
        if left:
            raise ContractError(
                "trailing_bytes",
                f"{left} bytes follow the end of the {writer.full_name} record",
            )
        return Decoded(writer.full_name, writer.version, record)

    # -- checks ----------------------------------------------------------------------------

    def _check_compatibility(self) -> None:
        for name in self.names:
            versions = [self._by_name[name][v] for v in self.versions(name)]
            for i, old in enumerate(versions):
                for new in versions[i + 1 :]:
                    problems = compatibility_problems(new.parsed, old.parsed)
                    if problems:
                        raise SchemaStoreError(
                            f"{new.path}: version {new.version} of {name} is not backward "
                            f"compatible with version {old.version} ({old.path.name}): "
                            + "; ".join(problems)
                        )


@functools.cache
def default_store() -> SchemaStore:
    """The repository's schemas/ folder, loaded once per process."""
    return SchemaStore.load(SCHEMAS_DIR)


def _read_body(body: BytesIO, writer: SchemaVersion, reader: SchemaVersion) -> dict[str, Any]:
    reader_schema = None if reader is writer else reader.parsed
    where = f"{writer.full_name} v{writer.version}"
    try:
        record = schemaless_reader(body, writer.parsed, reader_schema)
    except EOFError as exc:
        # fastavro reports a negative length prefix as "Expected -N bytes": garbage, not an
        # early end of data.
        if "Expected -" in str(exc):
            raise ContractError(
                "malformed_avro", f"the {where} body has a negative length prefix"
            ) from exc
        raise ContractError("truncated", f"the {where} body ends before the record does") from exc
    except UnicodeDecodeError as exc:
        raise ContractError(
            "invalid_utf8",
            f"a string in the {where} body is not valid UTF-8 ({exc.reason})",
        ) from exc
    except Exception as exc:  # untrusted bytes: any decoder failure is a malformed message
        if isinstance(exc, IndexError):  # fastavro indexes union branches with the raw value
            reason = "a union branch index names no branch of the schema"
        elif isinstance(exc, OverflowError):
            reason = "a number, date or timestamp is out of range"
        else:
            reason = _reason(exc)
        raise ContractError(
            "malformed_avro", f"the {where} body is not valid Avro: {reason}"
        ) from exc
    if not isinstance(record, dict):  # only record schemas are loaded, so this is a bug
        raise ContractError("malformed_avro", f"the {where} body did not decode to a record")
    return record


def _reason(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".replace("\n", " ")
    return text if len(text) <= _MAX_REASON_CHARS else text[: _MAX_REASON_CHARS - 3] + "..."


def _load_file(path: Path) -> SchemaVersion:
    match = _FILE_NAME.match(path.name)
    if match is None:
        raise SchemaStoreError(
            f"{path}: schema files must be named <kind>.v<N>.avsc (for example incident.v2.avsc)"
        )
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise SchemaStoreError(f"{path}: cannot read the file: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise SchemaStoreError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(raw, dict) or raw.get("type") != "record":
        raise SchemaStoreError(f"{path}: the top-level schema must be an Avro record")
    try:
        parsed: dict[str, Any] = parse_schema(raw)  # type: ignore[assignment]
    except Exception as exc:  # fastavro raises several types (SchemaParseException, UnknownType)
        raise SchemaStoreError(f"{path}: not a valid Avro schema: {_reason(exc)}") from exc
    fp = fingerprint(raw)
    timestamp_fields = tuple(
        f["name"]
        for f in parsed["fields"]
        if _is_timestamp(f["type"])
        or (isinstance(f["type"], list) and any(_is_timestamp(b) for b in f["type"]))
    )
    return SchemaVersion(
        full_name=str(parsed["name"]),
        kind=match["kind"],
        version=int(match["version"]),
        path=path,
        raw=raw,
        parsed=parsed,
        fingerprint=fp,
        header=SINGLE_OBJECT_MAGIC + fingerprint_bytes(fp),
        timestamp_fields=timestamp_fields,
    )


def _is_timestamp(schema: Any) -> bool:
    return isinstance(schema, dict) and str(schema.get("logicalType", "")).startswith("timestamp-")


def _check_consistency(versions: list[SchemaVersion]) -> None:
    seen: dict[tuple[str, int], SchemaVersion] = {}
    kinds: dict[str, SchemaVersion] = {}
    names: dict[tuple[Path, str], SchemaVersion] = {}
    for sv in versions:
        # Versions are grouped by full name, so renaming the record in a new file would silently
        # start a second record instead of evolving the first.
        same_file_kind = names.setdefault((sv.path.parent, sv.kind), sv)
        if same_file_kind.full_name != sv.full_name:
            raise SchemaStoreError(
                f"{sv.path}: defines {sv.full_name} but {same_file_kind.path.name} defines "
                f"{same_file_kind.full_name}; every version of a record keeps its full name"
            )
        other = seen.setdefault((sv.full_name, sv.version), sv)
        if other is not sv:
            raise SchemaStoreError(
                f"{sv.path}: {sv.full_name} version {sv.version} is also defined in {other.path}"
            )
        first = kinds.setdefault(sv.full_name, sv)
        if first.kind != sv.kind:
            raise SchemaStoreError(
                f"{sv.path}: {sv.full_name} is named {first.kind}.v*.avsc in {first.path}; "
                "keep one file kind per record"
            )
    by_fp: dict[int, SchemaVersion] = {}
    for sv in versions:
        other = by_fp.setdefault(sv.fingerprint, sv)
        if other.full_name != sv.full_name:  # a 64-bit collision: refuse rather than misroute
            raise SchemaStoreError(
                f"{sv.path}: fingerprint {sv.fingerprint:016x} collides with {other.path}"
            )
