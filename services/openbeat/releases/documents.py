"""The JSON documents of a release: manifest.json, datapackage.json and latest.json.

Pure functions from plain data to plain data, plus one canonical serialization (sorted keys,
two-space indent, trailing newline, UTF-8) so the same release always has the same bytes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

from openbeat.releases.datasets import DatasetSpec
from openbeat.releases.licenses import License, datapackage_licenses
from openbeat.releases.tabular import (
    CSV_LINE_TERMINATOR,
    CSV_LIST_FORMAT,
    CSV_LOCAL_TIMESTAMP_FORMAT,
    CSV_TIMESTAMP_FORMAT,
)

MANIFEST_VERSION = 1
PARQUET_MEDIA_TYPE = "application/vnd.apache.parquet"
CSV_MEDIA_TYPE = "text/csv"
JSON_MEDIA_TYPE = "application/json"
CHANGES_FILE = "changes.json"
# Content-Type headers of the objects (the catalog's mediaType carries no parameters).
PARQUET_CONTENT_TYPE = PARQUET_MEDIA_TYPE
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
JSON_CONTENT_TYPE = "application/json"

PARQUET_FILE = "data/part-00000.parquet"
CSV_FILE = "data.csv"
MANIFEST_FILE = "manifest.json"
DATAPACKAGE_FILE = "datapackage.json"


@dataclass(frozen=True)
class FileEntry:
    path: str
    media_type: str
    bytes: int
    sha256: str
    rows: int


def canonical_json(value: Any) -> bytes:
    """Deterministic JSON bytes: sorted keys, 2-space indent, UTF-8, newline at the end."""
    return (json.dumps(value, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def release_id_for(cutoff: datetime) -> str:
    """`2026-11-25T120000Z`: the cutoff in UTC, sortable, safe in a URL path and a file name."""
    if cutoff.tzinfo is None:
        raise ValueError("cutoff must be a timezone-aware datetime")
    return cutoff.astimezone(UTC).strftime("%Y-%m-%dT%H%M%SZ")


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def release_prefix(dataset: str, release_id: str) -> str:
    return f"datasets/{dataset}/releases/{release_id}/"


def latest_key(dataset: str) -> str:
    return f"datasets/{dataset}/latest.json"


def latest_copy_prefix(dataset: str) -> str:
    """Where the stable copy of the newest release's files lives (same relative paths)."""
    return f"datasets/{dataset}/latest/"


def arrow_type_name(t: pa.DataType) -> str:
    """A stable, readable name of an Arrow type for manifests (`timestamp[ms, tz=UTC]`)."""
    return str(t)


def schema_fields(spec: DatasetSpec) -> list[dict[str, Any]]:
    return [
        {
            "name": c.name,
            "type": arrow_type_name(c.type),
            "nullable": c.nullable,
            "description": c.description,
        }
        for c in spec.columns
    ]


def build_manifest(
    spec: DatasetSpec,
    release_id: str,
    cutoff: datetime,
    files: Sequence[FileEntry],
    rows: int,
    time_min: str | None,
    time_max: str | None,
    source_offsets: Mapping[str, Any],
    policy: Mapping[str, Any],
    generated_by: Mapping[str, str],
    pseudonym_key_id: str | None = None,
) -> dict[str, Any]:
    """Everything a consumer needs to trust and interpret the release, without wall-clock data.

    `pseudonym_key_id` names the key the public ids were made with (`privacy.pseudonym.key_id`:
    a one-way digest, never the key), so the gate can refuse the development key.
    """
    return {
        "manifest_version": MANIFEST_VERSION,
        "dataset": spec.name,
        "title": spec.title,
        "release_id": release_id,
        "cutoff": iso_utc(cutoff),
        "generated_by": dict(generated_by),
        "rows": rows,
        "files": [
            {
                "path": f.path,
                "media_type": f.media_type,
                "bytes": f.bytes,
                "sha256": f.sha256,
                "rows": f.rows,
            }
            for f in files
        ],
        "schema": {
            "fields": schema_fields(spec),
            "sort_key": list(spec.sort_key),
            "primary_key": list(spec.primary_key),
        },
        "time_coverage": {"column": spec.time_column, "min": time_min, "max": time_max},
        "source_offsets": dict(source_offsets),
        "policy": dict(policy),
        "pseudonym_key_id": pseudonym_key_id,
        "csv": {
            "encoding": "utf-8",
            "header": True,
            "line_terminator": "CRLF" if CSV_LINE_TERMINATOR == "\r\n" else "LF",
            "quoting": "RFC 4180, only where needed",
            "null": "",
            "lists": CSV_LIST_FORMAT,
            "timestamp_format": CSV_TIMESTAMP_FORMAT,
            "local_timestamp_format": CSV_LOCAL_TIMESTAMP_FORMAT,
        },
    }


def _table_schema_type(t: pa.DataType) -> dict[str, Any]:
    """Frictionless Table Schema type of an Arrow type, as it appears in the CSV."""
    if pa.types.is_timestamp(t) and t.tz is None:
        return {"type": "datetime", "format": CSV_LOCAL_TIMESTAMP_FORMAT}
    if pa.types.is_timestamp(t):
        return {"type": "datetime", "format": CSV_TIMESTAMP_FORMAT}
    if pa.types.is_date(t):
        return {"type": "date"}
    if pa.types.is_integer(t):
        return {"type": "integer"}
    if pa.types.is_floating(t):
        return {"type": "number"}
    if pa.types.is_boolean(t):
        return {"type": "boolean", "trueValues": ["true"], "falseValues": ["false"]}
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return {"type": "array"}
    return {"type": "string"}


def table_schema(spec: DatasetSpec) -> dict[str, Any]:
    fields = []
    for c in spec.columns:
        field: dict[str, Any] = {"name": c.name, "description": c.description}
        field.update(_table_schema_type(c.type))
        if not c.nullable:
            field["constraints"] = {"required": True}
        fields.append(field)
    return {"fields": fields, "missingValues": [""], "primaryKey": list(spec.primary_key)}


def build_datapackage(
    spec: DatasetSpec,
    release_id: str,
    cutoff: datetime,
    files: Sequence[FileEntry],
    base_url: str,
    license_: License,
    timezone: str,
) -> dict[str, Any]:
    """A Frictionless Data Package (v1) describing the release's files.

    The CSV is a tabular data resource with the Table Schema; the Parquet file is a plain file
    resource (its typed schema is inside the file, the same columns as the CSV's), so any
    Frictionless reader validates the package without a Parquet plugin, sizes and hashes
    included. `timezone` is the IANA zone of every local date and local time column.
    """
    schema = table_schema(spec)
    resources = []
    for f in files:
        kind = f.path.rsplit(".", 1)[-1]
        resource: dict[str, Any] = {
            "name": f"{spec.name}-{kind}",
            "path": f.path,
            "format": kind,
            "mediatype": f.media_type,
            "bytes": f.bytes,
            "hash": f"sha256:{f.sha256}",
        }
        if kind == "csv":
            resource["profile"] = "tabular-data-resource"
            resource["encoding"] = "utf-8"
            resource["schema"] = schema
            resource["dialect"] = {
                "delimiter": ",",
                "lineTerminator": CSV_LINE_TERMINATOR,
                "quoteChar": '"',
                "doubleQuote": True,
                "header": True,
            }
        else:
            resource["profile"] = "data-resource"
            resource["type"] = "file"
            if kind == "parquet":
                resource["description"] = (
                    f"The same rows and columns as {spec.name}-csv, typed in the Parquet schema"
                )
        resources.append(resource)
    return {
        "profile": "data-package",
        "name": spec.name,
        "id": f"{base_url}/{release_prefix(spec.name, release_id)}",
        "title": spec.title,
        "description": spec.description,
        "version": release_id,
        "created": iso_utc(cutoff),
        "keywords": list(spec.keywords),
        "licenses": datapackage_licenses(license_),
        "timezone": timezone,
        "resources": resources,
    }


def build_latest(
    spec: DatasetSpec,
    release_id: str,
    cutoff: datetime,
    rows: int,
    time_min: str | None,
    time_max: str | None,
    files: Sequence[FileEntry],
    base_url: str,
    issued: str,
) -> dict[str, Any]:
    """The pointer at the newest release, with absolute URLs a portal can fetch directly.

    `files[].url` address the immutable release; `files[].latest_url` the stable copy under
    `datasets/<dataset>/latest/` that always holds the newest release's bytes (the catalog's
    download URLs). `issued` is the cutoff of the dataset's first release.
    """
    prefix = release_prefix(spec.name, release_id)
    stable = latest_copy_prefix(spec.name)
    return {
        "dataset": spec.name,
        "release_id": release_id,
        "cutoff": iso_utc(cutoff),
        "issued": issued,
        "rows": rows,
        "time_coverage": {"column": spec.time_column, "min": time_min, "max": time_max},
        "release": prefix,
        "manifest": f"{base_url}/{prefix}{MANIFEST_FILE}",
        "datapackage": f"{base_url}/{prefix}{DATAPACKAGE_FILE}",
        "files": [
            {
                "path": f.path,
                "url": f"{base_url}/{prefix}{f.path}",
                "latest_url": f"{base_url}/{stable}{f.path}",
                "media_type": f.media_type,
                "bytes": f.bytes,
                "sha256": f.sha256,
            }
            for f in files
        ],
    }
