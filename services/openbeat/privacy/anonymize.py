"""The anonymizer's core: one raw record in, the records it may become out (SPEC 4).

`anonymize(kind, record, ctx)` builds every output field from an allow-list: a value reaches an
output only where this module copies it, so any field a schema adds later is dropped until
someone decides otherwise here. Enumerated values (status, channel, kind, category, topics) are
checked against closed lists; agency ids become keyed pseudonyms; addresses become hundred blocks
or intersections; points become grid-cell centres; times are truncated. Partner organisations and
venues are published only when the jurisdiction's name registry lists them (`privacy.names`, in
the registry's spelling); unlisted partners become one "N other partners" entry, an unlisted
venue none (readers see the district).

An incident with several offenses is published and counted under its primary (most serious)
offense with its offense count; it is sensitive or withheld when ANY offense or flag says so.

Withheld incidents (juvenile, confidential) go to the restricted channel only, for aggregates.
Every way out of the public datasets (withheld, unfounded, made private) is the one path of
`privacy.withdrawal`: a neutral withdrawn marker, sent only if an earlier revision was public
(`Output.when`, resolved by the revision check). A public revision > 1 also sends an uncounted
WithheldIncident, so the aggregator stops counting an earlier withheld revision.

Failures are values for the shell: `AnonymizeError(code, detail)` means "dead-letter this".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Literal

from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.contracts.offenses import OffenseTable, incident_offenses
from openbeat.contracts.vocabulary import (
    ENGAGEMENT_STATUSES,
    INCIDENT_STATUSES,
    PUBLIC_ENGAGEMENT_KINDS,
    REPORT_CHANNELS,
    SURVEY_RESPONSE,
    SURVEY_SCORE_MAX,
    SURVEY_SCORE_MIN,
)
from openbeat.privacy.blocks import generalize_address
from openbeat.privacy.grid import snap
from openbeat.privacy.names import NameRegistry
from openbeat.privacy.policy import Policy, slug
from openbeat.privacy.pseudonym import pseudonym
from openbeat.privacy.redact import redact_text
from openbeat.privacy.withdrawal import (
    WITHDRAWN_DATE,
    WITHDRAWN_TEXT,
    WITHDRAWN_TIME,
    When,
    engagement_marker,
    incident_marker,
)

logger = logging.getLogger(__name__)

PUBLIC_INCIDENT = "openbeat.public.PublicIncident"
PUBLIC_REPORT = "openbeat.public.PublicReport"
PUBLIC_ENGAGEMENT = "openbeat.public.PublicEngagement"
WITHHELD_INCIDENT = "openbeat.restricted.WithheldIncident"
SURVEY_RESPONSE_RECORD = "openbeat.restricted.SurveyResponse"

__all__ = ["WITHDRAWN_DATE", "WITHDRAWN_TEXT", "WITHDRAWN_TIME", "Output", "anonymize"]

Channel = Literal["public", "restricted"]


class AnonymizeError(ValueError):
    """A record the anonymizer cannot turn into safe output; the shell dead-letters it."""

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail


@dataclass(frozen=True, slots=True)
class Output:
    """One record to produce: its channel, Avro full name, Kafka key (district id) and value;
    `when` says whether it depends on an earlier revision having been public (withdrawal)."""

    channel: Channel
    full_name: str
    key: str
    record: dict[str, Any]
    when: When = "always"


@dataclass(frozen=True)
class AnonymizeContext:
    """Everything `anonymize` needs besides the record; build it once per service."""

    policy: Policy
    key: bytes = field(repr=False)  # the pseudonym key: never in a repr or a log
    jurisdiction: Jurisdiction
    offenses: OffenseTable
    # The partners and venues published by name; the jurisdiction's registry when not given.
    names: NameRegistry | None = None
    registry: NameRegistry = field(init=False, repr=False)
    neutral_district: str = field(init=False)
    sensitive_codes: frozenset[str] = field(init=False)
    dropped: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        # Markers need a valid district (it becomes a Kafka key and could become an object key);
        # the first id in sorted order is a constant that says nothing about the record.
        object.__setattr__(self, "neutral_district", min(self.jurisdiction.district_ids))
        object.__setattr__(self, "sensitive_codes", frozenset(self.policy.sensitive.extra_codes))
        # The policy's dropped raw fields, as a set: looked up several times per record.
        object.__setattr__(self, "dropped", frozenset(self.policy.dropped_fields))
        object.__setattr__(self, "registry", self.names or self.jurisdiction.name_registry)


def anonymize(kind: str, record: dict[str, Any], ctx: AnonymizeContext) -> list[Output]:
    """The outputs for one raw record of `kind` incident, report or engagement (may be empty)."""
    if kind == "incident":
        return _incident(record, ctx)
    if kind == "report":
        return _report(record, ctx)
    if kind == "engagement":
        return _engagement(record, ctx)
    raise AnonymizeError("unknown_kind", f"no anonymizer for record kind {kind!r}")


# ---- incidents ---------------------------------------------------------------------------------


def _incident(rec: dict[str, Any], ctx: AnonymizeContext) -> list[Output]:
    policy = ctx.policy
    district = _district(rec, ctx)
    public_id = pseudonym(ctx.key, "incident", rec["agency_id"], rec["incident_id"])
    revision = int(rec["revision"])
    codes = [o["code"] for o in incident_offenses(rec)]
    unknown = [c for c in codes if c not in ctx.offenses]
    if unknown or not codes:
        raise AnonymizeError(
            "unknown_offense_code", f"offense code(s) {unknown!r} not in the table (or none)"
        )
    offense = ctx.offenses.primary(codes)
    status = rec["status"]
    if status not in INCIDENT_STATUSES:
        raise AnonymizeError("unknown_status", f"incident status {status!r} is not a known status")
    occurred_at = _utc(rec["occurred_at"], "occurred_at")
    occurred_date = _local_date(occurred_at, ctx)
    # ANY offense or flag makes the whole incident sensitive: publishing it under a harmless
    # primary offense with a block and an hour would reveal where the sensitive one happened.
    sensitive = (
        bool(rec.get("sensitive"))
        or bool(rec.get("domestic"))
        or any(c in ctx.offenses.sensitive_codes or c in ctx.sensitive_codes for c in codes)
    )
    withheld = (
        (policy.withhold.juvenile and bool(rec.get("juvenile_involved")))
        or (policy.withhold.confidential and bool(rec.get("confidential")))
        or (policy.sensitive.withhold and sensitive)
    )
    counted = {
        "public_id": public_id,
        "revision": revision,
        "withdrawn": False,
        "category": offense.category,
        "occurred_date": occurred_date,
        "district": district,
    }
    unfounded = status == "unfounded" and not policy.publish_unfounded
    if withheld or unfounded:
        # One path out (privacy.withdrawal): a marker only if it was public; once public, never
        # counted as withheld again; unfounded incidents are not counted at all.
        uncounted, restricted = {**counted, "withdrawn": True}, WITHHELD_INCIDENT
        if unfounded:
            return [
                _withdrawn_incident(public_id, revision, ctx),
                Output("restricted", restricted, district, uncounted),
            ]
        return [
            _withdrawn_incident(public_id, revision, ctx),
            Output("restricted", restricted, district, uncounted, "was_public"),
            Output("restricted", restricted, district, counted, "never_public"),
        ]

    if sensitive or "incident.address" in ctx.dropped:
        block, precision = None, "district"
    else:
        block, precision = generalize_address(rec.get("address"))
    lat, lon = _point(rec, "incident", precision, ctx)
    public = {
        "public_id": public_id,
        "revision": revision,
        "withdrawn": False,
        "category": offense.category,
        "offense_code": offense.code,
        "offense_count": len(set(codes)),
        "offense_codes": ctx.offenses.by_seriousness(codes)
        if policy.publish_all_offense_codes
        else [],
        "reported_date": _local_date(_utc(rec["reported_at"], "reported_at"), ctx),
        "occurred_date": occurred_date,
        "occurred_hour": None if sensitive else _truncate(occurred_at, ctx, nullable=True),
        "block": block,
        "district": district,
        "latitude": lat,
        "longitude": lon,
        "location_precision": precision,
        "status": status,
    }
    outputs = [Output("public", PUBLIC_INCIDENT, district, public)]
    if revision > 1:
        # An earlier revision may have been withheld and counted: tell the aggregator to stop.
        # Only when one was accepted at all: an import whose revisions come from a timestamp
        # column has every first-seen incident at a revision > 1, and sent this for each (the
        # backfill's anonymizer sent two records per input, its aggregator read twice the rows).
        uncounted = {**counted, "withdrawn": True}
        outputs.append(Output("restricted", WITHHELD_INCIDENT, district, uncounted, "was_seen"))
    return outputs


def _withdrawn_incident(public_id: str, revision: int, ctx: AnonymizeContext) -> Output:
    """The public marker retracting earlier public revisions (sent only if there were any)."""
    marker = incident_marker(public_id, revision, ctx.neutral_district)
    return Output("public", PUBLIC_INCIDENT, ctx.neutral_district, marker, "was_public")


# ---- community reports -------------------------------------------------------------------------


def _report(rec: dict[str, Any], ctx: AnonymizeContext) -> list[Output]:
    policy = ctx.policy
    district = _district(rec, ctx)
    if "report.address" in ctx.dropped:
        block, precision = None, "district"
    else:
        block, precision = generalize_address(rec.get("address"))
    lat, lon = _point(rec, "report", precision, ctx)
    channel = rec["channel"] if rec["channel"] in REPORT_CHANNELS else "other"
    category = slug(rec["category"])
    if category not in policy.report_categories:
        category = "other"
    description = None
    text = rec.get("description")
    if text and policy.publish_report_text and "report.description" not in ctx.dropped:
        description = redact_text(text) or None
    submitted = _truncate(_utc(rec["submitted_at"], "submitted_at"), ctx, nullable=False)
    public = {
        "public_id": pseudonym(ctx.key, "report", rec["agency_id"], rec["report_id"]),
        "submitted_hour": submitted,
        "channel": channel,
        "category": category,
        "block": block,
        "district": district,
        "latitude": lat,
        "longitude": lon,
        "location_precision": precision,
        "description": description,
    }
    return [Output("public", PUBLIC_REPORT, district, public)]


# ---- engagements -------------------------------------------------------------------------------


def _engagement(rec: dict[str, Any], ctx: AnonymizeContext) -> list[Output]:
    district = _district(rec, ctx)
    revision = int(rec.get("revision", 1))
    kind = rec["kind"]
    if kind == SURVEY_RESPONSE:
        return [_survey_response(rec, revision, district, ctx)]
    if kind not in PUBLIC_ENGAGEMENT_KINDS:
        raise AnonymizeError("unknown_kind", f"engagement kind {kind!r} is not a known kind")
    status = rec["status"]
    if status not in ENGAGEMENT_STATUSES:
        raise AnonymizeError("unknown_status", f"engagement status {status!r} is not known")
    public_id = pseudonym(ctx.key, "engagement", rec["agency_id"], rec["engagement_id"])
    if not rec.get("public", True):
        return [_withdrawn_engagement(public_id, revision, ctx)]
    policy = ctx.policy
    venue = None
    if "engagement.venue_name" not in ctx.dropped:
        venue = ctx.registry.venue(rec.get("venue_name"))
    block = None
    if "engagement.venue_address" not in ctx.dropped:
        block, _ = generalize_address(rec.get("venue_address"))
    partners: list[str] = []
    if policy.publish_partners and "engagement.partner_organizations" not in ctx.dropped:
        partners = ctx.registry.public_partners(rec.get("partner_organizations") or ())
    topics: list[str] = []
    if "engagement.topics" not in ctx.dropped:
        for topic in rec.get("topics") or ():
            topic_slug = slug(topic)
            if topic_slug in policy.engagement_topics and topic_slug not in topics:
                topics.append(topic_slug)
    attendees = rec.get("attendee_count")
    if (
        "engagement.attendee_count" in ctx.dropped
        or not isinstance(attendees, int)
        or attendees < 0
    ):
        attendees = None
    ends_at = rec.get("ends_at")
    public = {
        "public_id": public_id,
        "revision": revision,
        "withdrawn": False,
        "kind": kind,
        "status": status,
        "starts_at": _utc(rec["starts_at"], "starts_at"),
        "ends_at": None
        if ends_at is None or "engagement.ends_at" in ctx.dropped
        else _utc(ends_at, "ends_at"),
        "district": district,
        "venue": venue,
        "block": block,
        "attendee_count": attendees,
        "partners": partners,
        "topics": topics,
    }
    return [Output("public", PUBLIC_ENGAGEMENT, district, public)]


def _withdrawn_engagement(public_id: str, revision: int, ctx: AnonymizeContext) -> Output:
    """The public marker retracting an event that became non-public (only if it was public)."""
    marker = engagement_marker(public_id, revision, ctx.neutral_district)
    return Output("public", PUBLIC_ENGAGEMENT, ctx.neutral_district, marker, "was_public")


def _survey_response(
    rec: dict[str, Any], revision: int, district: str, ctx: AnonymizeContext
) -> Output:
    """Scores, date and district only: never public, only for the aggregator."""
    survey = rec.get("survey")
    if not survey:
        raise AnonymizeError("missing_survey", "a survey_response carries no survey answers")
    scores = (survey.get("trust_score"), survey.get("safety_score"))
    for score in scores:
        if not isinstance(score, int) or not SURVEY_SCORE_MIN <= score <= SURVEY_SCORE_MAX:
            raise AnonymizeError("score_out_of_range", f"survey score {score!r} is not 1 to 5")
    restricted = {
        "public_id": pseudonym(ctx.key, "survey_response", rec["agency_id"], rec["engagement_id"]),
        "revision": revision,
        "responded_date": _local_date(_utc(rec["starts_at"], "starts_at"), ctx),
        "district": district,
        "trust_score": scores[0],
        "safety_score": scores[1],
    }
    return Output("restricted", SURVEY_RESPONSE_RECORD, district, restricted)


# ---- shared helpers ----------------------------------------------------------------------------


def _district(rec: dict[str, Any], ctx: AnonymizeContext) -> str:
    district = rec.get("district")
    if district not in ctx.jurisdiction.district_ids:
        raise AnonymizeError("unknown_district", "the record's district is not a known district")
    return str(district)


def _point(
    rec: dict[str, Any], kind: str, precision: str, ctx: AnonymizeContext
) -> tuple[float | None, float | None]:
    """The grid-cell centre, or no point when only the district may be shown."""
    lat, lon = rec.get("latitude"), rec.get("longitude")
    if precision == "district" or lat is None or lon is None:
        return None, None
    if f"{kind}.latitude" in ctx.dropped or f"{kind}.longitude" in ctx.dropped:
        return None, None
    try:
        return snap(float(lat), float(lon), ctx.policy.grid_cell_m)
    except ValueError:
        return None, None


def _utc(value: Any, name: str) -> datetime:
    """An aware UTC datetime (naive ones are read as UTC, as the wire format defines them)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, int):  # raw timestamp-millis
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    raise AnonymizeError("bad_timestamp", f"{name} is not a timestamp")


def _local_date(moment: datetime, ctx: AnonymizeContext) -> date:
    return moment.astimezone(ctx.jurisdiction.zone).date()


def _truncate(moment: datetime, ctx: AnonymizeContext, *, nullable: bool) -> Any:
    """Truncated to the local hour (or day) and returned in UTC; None for day when nullable.

    Truncating on the local wall clock matters in zones with half-hour offsets, where the UTC
    hour would land on :30 local.
    """
    local = moment.astimezone(ctx.jurisdiction.zone)
    if ctx.policy.time_truncation == "day":
        if nullable:
            return None
        local = local.replace(hour=0, minute=0, second=0, microsecond=0)
    else:
        local = local.replace(minute=0, second=0, microsecond=0)
    return local.astimezone(UTC)
