"""The privacy policy (SPEC 4) as a validated value, loaded from TOML.

The shipped defaults live in `data/policy.toml`; a city's file overrides any key of it. The
policy can be made stricter freely, but the SPEC 4 floor of dropped fields cannot be lifted, and
every field name is checked against the raw schemas so a typo fails at start-up instead of
silently publishing. `Policy.summary()` is what each release manifest records.
"""

from __future__ import annotations

import json
import logging
import tomllib
from datetime import date, datetime, timedelta, tzinfo
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from openbeat.paths import DATA_DIR, SCHEMAS_DIR

logger = logging.getLogger(__name__)

DEFAULT_POLICY_FILE = DATA_DIR / "policy.toml"

# Bumped when the meaning of a policy key changes, so manifests say which rules applied.
POLICY_FORMAT = 1

KINDS = ("incident", "report", "engagement")

# SPEC 4 "dropped always": no policy file may remove these (kind.field or kind.field.subfield).
FLOOR_DROPPED: frozenset[str] = frozenset(
    {
        "incident.incident_id",
        "incident.narrative",
        "incident.persons",
        "incident.officer_id",
        "report.report_id",
        "report.reporter",
        "engagement.engagement_id",
        "engagement.respondent",
        "engagement.survey.comment",
    }
)

# Carried-over fields a policy may drop as well; the anonymizer then nulls the public field.
OPTIONAL_DROPPABLE: frozenset[str] = frozenset(
    {
        "incident.address",
        "incident.latitude",
        "incident.longitude",
        "report.address",
        "report.latitude",
        "report.longitude",
        "report.description",
        "engagement.venue_name",
        "engagement.venue_address",
        "engagement.attendee_count",
        "engagement.partner_organizations",
        "engagement.topics",
        "engagement.ends_at",
    }
)

# Carried-over fields that are required in the public schemas and so cannot be dropped.
REQUIRED_CARRIED: frozenset[str] = frozenset(
    {
        "incident.agency_id",
        "incident.revision",
        "incident.reported_at",
        "incident.occurred_at",
        "incident.offense_code",
        "incident.offenses",
        "incident.offenses.code",
        "incident.status",
        "incident.district",
        "report.agency_id",
        "report.submitted_at",
        "report.channel",
        "report.category",
        "report.district",
        "engagement.agency_id",
        "engagement.revision",
        "engagement.kind",
        "engagement.status",
        "engagement.starts_at",
        "engagement.district",
    }
)


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file and the field."""


@cache
def raw_field_paths() -> frozenset[str]:
    """Every `kind.field` and `kind.field.subfield` of every raw schema version."""
    paths: set[str] = set()
    for kind in KINDS:
        for schema_file in sorted((SCHEMAS_DIR / "raw").glob(f"{kind}.v*.avsc")):
            schema = json.loads(schema_file.read_text(encoding="utf-8"))
            for field in schema["fields"]:
                paths.add(f"{kind}.{field['name']}")
                for sub in _record_fields(field["type"]):
                    paths.add(f"{kind}.{field['name']}.{sub}")
    return frozenset(paths)


def _record_fields(avro_type: Any) -> list[str]:
    """Field names of a record nested in a field type (through unions and arrays)."""
    if isinstance(avro_type, list):
        return [name for branch in avro_type for name in _record_fields(branch)]
    if isinstance(avro_type, dict):
        if avro_type.get("type") == "record":
            return [f["name"] for f in avro_type["fields"]]
        if avro_type.get("type") == "array":
            return _record_fields(avro_type["items"])
    return []


class SensitivePolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    extra_codes: tuple[str, ...] = ()
    withhold: bool = False


class WithholdPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    juvenile: bool = True
    confidential: bool = True


class Policy(BaseModel):
    """The rules the anonymizer, the aggregator and the publisher apply."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    k: int = Field(default=5, ge=2, le=1000)
    # Below 50 m a cell centre is barely coarser than a hundred block's own coordinates.
    grid_cell_m: float = Field(default=250.0, ge=50, le=10_000)
    time_truncation: Literal["hour", "day"] = "hour"
    # Row-level incidents appear this many days after they were reported (Chicago: 7 days), so
    # a victim's report is not on a public map while the case is fresh; 0 publishes at once.
    publication_delay_days: int = Field(default=7, ge=0, le=365)
    # A period (day, week, month) of an aggregate is published once it has closed and this many
    # days more have passed; its figures are then sealed and never change (aggregate/sealing.py).
    settle_days: int = Field(default=7, ge=0, le=365)
    # Unfounded incidents (no offense occurred) leave the public datasets; true keeps them.
    publish_unfounded: bool = False
    publish_report_text: bool = False
    dropped_fields: tuple[str, ...] = tuple(sorted(FLOOR_DROPPED))
    report_categories: tuple[str, ...] = ("other",)
    engagement_topics: tuple[str, ...] = ()
    publish_partners: bool = True
    # Off: the public incident names its primary offense and how many it has, not the others.
    publish_all_offense_codes: bool = False
    sensitive: SensitivePolicy = SensitivePolicy()
    withhold: WithholdPolicy = WithholdPolicy()

    @field_validator("dropped_fields")
    @classmethod
    def _floor_and_known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        missing = sorted(FLOOR_DROPPED - set(value))
        if missing:
            raise ValueError(f"cannot publish {', '.join(missing)} (SPEC 4 floor: always dropped)")
        known = raw_field_paths()
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"unknown raw field(s) {', '.join(unknown)}")
        required = sorted(set(value) & REQUIRED_CARRIED)
        if required:
            raise ValueError(f"{', '.join(required)} is required in the public records")
        return tuple(sorted(set(value)))

    @field_validator("sensitive")
    @classmethod
    def _codes_upper(cls, value: SensitivePolicy) -> SensitivePolicy:
        return value.model_copy(update={"extra_codes": tuple(c.upper() for c in value.extra_codes)})

    @field_validator("report_categories", "engagement_topics")
    @classmethod
    def _slugs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(sorted({slug(v) for v in value if slug(v)}))

    def drops(self, path: str) -> bool:
        """True when the raw field `kind.field` must not be carried over."""
        return path in self._dropped_set

    @property
    def _dropped_set(self) -> frozenset[str]:
        return _frozen(self.dropped_fields)

    def publication_cutoff(self, now: datetime) -> datetime:
        """Records reported after this instant are not published yet (publication delay).

        THE rule for "old enough to publish at row level": the release builder, the alerter,
        the sealing of aggregate periods and the verifier all call it.
        """
        return now - timedelta(days=self.publication_delay_days)

    def publication_day(self, now: datetime, zone: tzinfo) -> date:
        """The last local reported date published in full at `now` (records carry local
        reported dates): a row with reported_date <= this day may be published, and an alert
        may show its block and point; younger ones show at most district, category and hour."""
        return self.publication_cutoff(now).astimezone(zone).date()

    def summary(self) -> dict[str, Any]:
        """JSON-able record of the policy in force, for every release manifest."""
        data = self.model_dump(mode="json")
        data["format"] = POLICY_FORMAT
        return data


@cache
def _frozen(items: tuple[str, ...]) -> frozenset[str]:
    return frozenset(items)


def slug(text: str) -> str:
    """`Traffic Safety` -> `traffic_safety`: the comparable form of categories and topics."""
    return "_".join(text.strip().lower().replace("-", " ").split())


def load_policy(path: Path | None = None) -> Policy:
    """The shipped defaults, overridden key by key by the TOML file at `path` (if given)."""
    merged = _read_toml(DEFAULT_POLICY_FILE)
    source = DEFAULT_POLICY_FILE
    if path is not None:
        source = path
        merged = _merge(merged, _read_toml(path))
    if "differential_privacy" in merged:
        raise PolicyError(
            f"{source}: field differential_privacy: removed; the noise it added was not "
            "differential privacy end to end (suppression decided on true values, no budget "
            "kept). Delete the table: counts are protected by k, the withheld row and sealing"
        )
    try:
        policy = Policy.model_validate(merged)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise PolicyError(f"{source}: field {where}: {first['msg']}") from exc
    logger.info("privacy policy from %s: k=%d grid=%sm", source, policy.k, policy.grid_cell_m)
    return policy


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise PolicyError(f"policy file {path} not found (OPENBEAT_POLICY)") from exc
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from exc


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Override tables key by key (one level of nesting is all the policy has)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged
