"""The DCAT-US 1.1 (Project Open Data) catalog, `catalog/data.json`, and its offline validation.

The catalog is rebuilt from every dataset's `latest.json`, so it always lists exactly the
releases that are complete and verified. Validation uses the Project Open Data JSON Schemas
shipped in `openbeat/data/dcat-us-1.1/` (no network), without the federal-only bureauCode and
programCode (a city has none), like the offline `validate.py --non-federal`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from functools import cache
from typing import Any

from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.paths import DATA_DIR
from openbeat.releases.datasets import DatasetSpec
from openbeat.releases.documents import (
    CSV_MEDIA_TYPE,
    JSON_MEDIA_TYPE,
    PARQUET_MEDIA_TYPE,
)
from openbeat.releases.licenses import License

CATALOG_KEY = "catalog/data.json"
DCAT_SCHEMA_DIR = DATA_DIR / "dcat-us-1.1"
SCHEMA_BASE_URL = "https://project-open-data.cio.gov/v1.1/schema/"
_SCHEMA_FILES = ("catalog", "dataset", "distribution", "organization", "vcard")
_FEDERAL_ONLY = ("bureauCode", "programCode")


def _distribution(
    title: str, url: str, media_type: str, fmt: str, description: str
) -> dict[str, Any]:
    return {
        "@type": "dcat:Distribution",
        "title": title,
        "description": description,
        "downloadURL": url,
        "mediaType": media_type,
        "format": fmt,
    }


def dataset_identifier(jurisdiction: Jurisdiction, dataset: str) -> str:
    """The harvest key of a dataset: from the jurisdiction and the dataset only, never from
    where the files are hosted, so moving the store or setting a base URL re-creates nothing."""
    return f"urn:openbeat:{jurisdiction.id}:datasets/{dataset}"


def accrual_periodicity(release_interval_s: int) -> str:
    """The ISO 8601 repeating duration of the release schedule (`R/P1D` for daily)."""
    if release_interval_s <= 0:
        return "irregular"
    for unit, seconds in (("W", 604800), ("D", 86400)):
        if release_interval_s % seconds == 0:
            return f"R/P{release_interval_s // seconds}{unit}"
    hours, rest = divmod(release_interval_s, 3600)
    minutes, secs = divmod(rest, 60)
    parts = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    return f"R/PT{parts}"


def _temporal(spec: DatasetSpec, latest: Mapping[str, Any]) -> str | None:
    """`start/end` of the release's time column (ISO weeks as their first and last day)."""
    coverage = latest.get("time_coverage") or {}
    low, high = coverage.get("min"), coverage.get("max")
    if not low or not high:
        return None
    if spec.time_column == "iso_week":
        first = date.fromisocalendar(int(low[:4]), int(low[6:]), 1)
        last = date.fromisocalendar(int(high[:4]), int(high[6:]), 7)
        return f"{first.isoformat()}/{last.isoformat()}"
    return f"{low}/{high}"


def catalog_dataset(
    spec: DatasetSpec,
    latest: Mapping[str, Any],
    jurisdiction: Jurisdiction,
    base_url: str,
    license_: License,
    periodicity: str = "irregular",
) -> dict[str, Any]:
    """One DCAT-US dataset entry for the release a `latest.json` points at.

    Download URLs are the stable `latest/` copies (the same URL from release to release); the
    manifest and the Data Package of the current release are linked beside them.
    """
    urls = {f["path"]: f.get("latest_url") or f["url"] for f in latest["files"]}
    parquet = next(u for p, u in urls.items() if p.endswith(".parquet"))
    csv_url = next(u for p, u in urls.items() if p.endswith(".csv"))
    entry: dict[str, Any] = {
        "@type": "dcat:Dataset",
        "identifier": dataset_identifier(jurisdiction, spec.name),
        "title": f"{jurisdiction.name}: {spec.title}",
        "description": f"{spec.description} Local dates and times are in {jurisdiction.timezone}.",
        "keyword": list(spec.keywords),
        "theme": list(spec.theme),
        "issued": latest.get("issued") or latest["cutoff"],
        "modified": latest["cutoff"],
        "accessLevel": "public",
        "license": license_.url,
        "publisher": {"@type": "org:Organization", "name": jurisdiction.publisher},
        "contactPoint": {
            "@type": "vcard:Contact",
            "fn": jurisdiction.publisher,
            "hasEmail": f"mailto:{jurisdiction.contact_email}",
        },
        "landingPage": jurisdiction.homepage,
        "describedBy": latest["datapackage"],
        "describedByType": JSON_MEDIA_TYPE,
        "accrualPeriodicity": periodicity,
        "language": ["en-US"],
        "spatial": (
            f"{jurisdiction.bbox.min_lon},{jurisdiction.bbox.min_lat},"
            f"{jurisdiction.bbox.max_lon},{jurisdiction.bbox.max_lat}"
        ),
        "distribution": [
            _distribution(
                f"{spec.title} (Parquet)",
                parquet,
                PARQUET_MEDIA_TYPE,
                "Parquet",
                "Typed columns, zstd-compressed, column descriptions in the file metadata",
            ),
            _distribution(
                f"{spec.title} (CSV)",
                csv_url,
                CSV_MEDIA_TYPE,
                "CSV",
                "Same rows as the Parquet file; UTF-8, RFC 4180",
            ),
            _distribution(
                f"{spec.title} release manifest",
                latest["manifest"],
                JSON_MEDIA_TYPE,
                "JSON",
                "Files with sizes, SHA-256 checksums and row counts; schema; privacy policy",
            ),
        ],
    }
    temporal = _temporal(spec, latest)
    if temporal:
        entry["temporal"] = temporal
    return entry


def build_catalog(
    entries: Sequence[tuple[DatasetSpec, Mapping[str, Any]]],
    jurisdiction: Jurisdiction,
    base_url: str,
    license_: License,
    periodicity: str = "irregular",
) -> dict[str, Any]:
    """The whole catalog, datasets ordered by name so the bytes depend only on the releases."""
    datasets = [
        catalog_dataset(spec, latest, jurisdiction, base_url, license_, periodicity)
        for spec, latest in sorted(entries, key=lambda e: e[0].name)
    ]
    return {
        "@context": "https://project-open-data.cio.gov/v1.1/schema/catalog.jsonld",
        "@id": f"{base_url}/{CATALOG_KEY}",
        "@type": "dcat:Catalog",
        "conformsTo": "https://project-open-data.cio.gov/v1.1/schema",
        "describedBy": "https://project-open-data.cio.gov/v1.1/schema/catalog.json",
        "dataset": datasets,
    }


@cache
def _validator() -> Any:
    from jsonschema import Draft4Validator
    from referencing import Registry
    from referencing.jsonschema import DRAFT4

    resources = []
    schemas: dict[str, Any] = {}
    for name in _SCHEMA_FILES:
        contents = json.loads((DCAT_SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8"))
        if name == "dataset":
            contents["required"] = [f for f in contents["required"] if f not in _FEDERAL_ONLY]
        schemas[name] = contents
        resources.append((SCHEMA_BASE_URL + f"{name}.json", DRAFT4.create_resource(contents)))
    registry = Registry().with_resources(resources)
    return Draft4Validator(schemas["catalog"], registry=registry)


def validate_catalog(catalog: Any) -> list[str]:
    """DCAT-US 1.1 problems of a parsed catalog, one readable line each; empty when valid."""
    errors = sorted(_validator().iter_errors(catalog), key=lambda e: list(map(str, e.path)))
    return [f"{e.json_path}: {e.message[:300]}" for e in errors]
