"""Semantic validation of decoded input records, beyond what the Avro schema can say (SPEC 3).

`validate(kind, record, ctx)` is pure: a record in the reader-schema shape (as `SchemaStore.decode`
and `decode_json` return it) plus a context, in; a list of `Failure` values out (empty when the
record is acceptable). The shell dead-letters a record with failures; `dead_letter_reason` turns
them into the `openbeat.error.code` / `openbeat.error.detail` pair.

Messages name the field, the bad value when it is safe to repeat (codes, ids, statuses, times;
never coordinates or personal data) and what is expected, in one sentence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from openbeat.contracts.jurisdiction import Jurisdiction
from openbeat.contracts.offenses import OffenseTable
from openbeat.contracts.timebounds import time_problem
from openbeat.contracts.vocabulary import (
    ENGAGEMENT_KINDS,
    ENGAGEMENT_STATUSES,
    INCIDENT_STATUSES,
    MAX_PERSON_AGE,
    OFFENSE_COMPLETIONS,
    PERSON_ROLES,
    PERSON_SEXES,
    REPORT_CATEGORY_PATTERN,
    REPORT_CHANNELS,
    SURVEY_RESPONSE,
    SURVEY_SCORE_MAX,
    SURVEY_SCORE_MIN,
)

# Clocks of agency systems drift; five minutes absorbs NTP-less servers without letting a
# mistyped year through.
DEFAULT_FUTURE_SKEW = timedelta(minutes=5)
# Long enough to show an id, short enough that a pasted narrative does not flood a log line.
_MAX_ECHO = 40
_CATEGORY_RE = re.compile(REPORT_CATEGORY_PATTERN)


@dataclass(frozen=True)
class Failure:
    """One broken rule: `code` for machines, `field` (dotted path), `message` for people."""

    code: str
    field: str
    message: str


@dataclass(frozen=True)
class ValidationContext:
    jurisdiction: Jurisdiction
    offenses: OffenseTable
    now: datetime
    future_skew: timedelta = DEFAULT_FUTURE_SKEW


def dead_letter_reason(failures: Sequence[Failure]) -> tuple[str, str]:
    """(code, detail) for dead-letter headers: the first failure's code, every message."""
    if not failures:
        raise ValueError("dead_letter_reason needs at least one failure")
    return failures[0].code, " ".join(f.message for f in failures)


def validate(kind: str, record: dict[str, Any], ctx: ValidationContext) -> list[Failure]:
    """Every semantic problem of an input record of `kind` (incident, report or engagement)."""
    try:
        check = _CHECKS[kind]
    except KeyError:
        raise ValueError(
            f"unknown record kind {kind!r}; expected one of {sorted(_CHECKS)}"
        ) from None
    out: list[Failure] = []
    check(record, ctx, out)
    return out


# -- helpers -------------------------------------------------------------------------------


def _echo(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_ECHO else text[: _MAX_ECHO - 4] + "...'"


def _one_of(values: Sequence[str]) -> str:
    return ", ".join(values[:-1]) + " or " + values[-1] if len(values) > 1 else values[0]


def _check_id(record: dict[str, Any], name: str, out: list[Failure]) -> None:
    value = record.get(name)
    if not isinstance(value, str) or not value.strip():
        out.append(Failure("empty_id", name, f"Field {name} is empty; give the agency's own id."))
    elif ":" in value:
        out.append(
            Failure(
                "invalid_id",
                name,
                f"Field {name} is {_echo(value)}, which contains ':'; ids may not contain ':' "
                "because event keys are agency_id:id.",
            )
        )


def _check_revision(record: dict[str, Any], out: list[Failure]) -> None:
    value = record.get("revision")
    if not isinstance(value, int) or value < 1:
        out.append(
            Failure(
                "invalid_revision",
                "revision",
                f"Field revision is {_echo(value)}; expected 1 for the first version and a "
                "higher number for each update.",
            )
        )


def _check_utc(value: Any, name: str, ctx: ValidationContext, out: list[Failure]) -> bool:
    """A UTC timestamp inside the accepted range (contracts.timebounds)."""
    return _check_time(value, name, ctx, out, None)


def _check_not_future(value: Any, name: str, ctx: ValidationContext, out: list[Failure]) -> bool:
    return _check_time(value, name, ctx, out, ctx.now + ctx.future_skew)


def _check_time(
    value: Any,
    name: str,
    ctx: ValidationContext,
    out: list[Failure],
    not_after: datetime | None,
) -> bool:
    problem = time_problem(value, name, ctx.now, not_after=not_after)
    if problem is not None:
        out.append(Failure(problem[0], name, problem[1]))
    return problem is None


def _check_enum(
    record: dict[str, Any],
    name: str,
    allowed: Sequence[str],
    code: str,
    out: list[Failure],
    path: str | None = None,
    nullable: bool = False,
) -> None:
    """One of `allowed` (or null when `nullable`); `path` names the field inside a list."""
    value = record.get(name)
    if value in allowed or (nullable and value is None):
        return
    field = path or name
    tail = " or null" if nullable else ""
    out.append(
        Failure(code, field, f"Field {field} is {_echo(value)}; expected {_one_of(allowed)}{tail}.")
    )


def _check_location(record: dict[str, Any], ctx: ValidationContext, out: list[Failure]) -> None:
    _check_district(record, ctx, out)
    _check_coordinates(record, ctx, out)


def _check_district(record: dict[str, Any], ctx: ValidationContext, out: list[Failure]) -> None:
    district = record.get("district")
    if district not in ctx.jurisdiction.district_ids:
        known = _one_of(sorted(ctx.jurisdiction.district_ids))
        out.append(
            Failure(
                "unknown_district",
                "district",
                f"Field district is {_echo(district)}, not a district of "
                f"{ctx.jurisdiction.name}; expected {known}.",
            )
        )


def _check_coordinates(record: dict[str, Any], ctx: ValidationContext, out: list[Failure]) -> None:
    lat, lon = record.get("latitude"), record.get("longitude")
    if (lat is None) != (lon is None):
        missing = "longitude" if lon is None else "latitude"
        out.append(
            Failure(
                "coordinates_incomplete",
                missing,
                f"Field {missing} is missing while "
                f"{'latitude' if missing == 'longitude' else 'longitude'} is set; give both "
                "coordinates or neither.",
            )
        )
    elif lat is not None and lon is not None:
        inside = (
            isinstance(lat, (int, float))
            and isinstance(lon, (int, float))
            and math.isfinite(lat)
            and math.isfinite(lon)
            and ctx.jurisdiction.bbox.contains(lat, lon)
        )
        if not inside:
            # The point itself is not repeated: exact coordinates are personal data.
            out.append(
                Failure(
                    "coordinates_outside_jurisdiction",
                    "latitude",
                    "Fields latitude/longitude lie outside the bounding box of "
                    f"{ctx.jurisdiction.name}; expected WGS84 degrees inside the jurisdiction "
                    "(check for swapped or projected coordinates).",
                )
            )


# -- per kind ------------------------------------------------------------------------------


def _check_incident(record: dict[str, Any], ctx: ValidationContext, out: list[Failure]) -> None:
    _check_id(record, "incident_id", out)
    _check_id(record, "agency_id", out)
    _check_revision(record, out)
    reported, occurred = record.get("reported_at"), record.get("occurred_at")
    not_after = ctx.now + ctx.future_skew  # _check_not_future's limit, computed once
    reported_ok = _check_time(reported, "reported_at", ctx, out, not_after)
    occurred_ok = _check_time(occurred, "occurred_at", ctx, out, not_after)
    # Compared only when both are in range (adding the skew to year 9999 would overflow).
    if (
        reported_ok
        and occurred_ok
        and isinstance(reported, datetime)
        and isinstance(occurred, datetime)
        and occurred > reported + ctx.future_skew
    ):
        out.append(
            Failure(
                "occurred_after_reported",
                "occurred_at",
                f"Field occurred_at is {occurred.isoformat()}, after reported_at "
                f"({reported.isoformat()}); an incident cannot be reported before it happens.",
            )
        )
    _check_offenses(record, ctx, out)
    _check_enum(record, "status", INCIDENT_STATUSES, "invalid_status", out)
    _check_location(record, ctx, out)
    persons = record.get("persons") or []
    for i, person in enumerate(persons):
        _check_person(person, f"persons[{i}]", out)


def _check_offenses(record: dict[str, Any], ctx: ValidationContext, out: list[Failure]) -> None:
    """At least one offense; every code a NIBRS code; completion from the closed list."""
    if not record.get("offenses") and record.get("offense_code") is None:
        out.append(
            Failure(
                "no_offense",
                "offenses",
                "The incident has no offense: set offense_code or list its offenses.",
            )
        )
        return
    code = record.get("offense_code")
    listed = [] if code is None else [("offense_code", code)]
    for i, offense in enumerate(record.get("offenses") or ()):
        listed.append((f"offenses[{i}].code", offense.get("code")))
        _check_enum(
            offense, "completion", OFFENSE_COMPLETIONS, "invalid_completion", out,
            path=f"offenses[{i}].completion", nullable=True,
        )  # fmt: skip
    for field, value in listed:
        if not isinstance(value, str) or value not in ctx.offenses:
            out.append(
                Failure(
                    "unknown_offense_code",
                    field,
                    f"Field {field} is {_echo(value)}, not a NIBRS offense code; expected a code "
                    "such as 13A, 23F or 90Z (see data/offense_codes.toml).",
                )
            )


def _check_person(person: dict[str, Any], path: str, out: list[Failure]) -> None:
    _check_enum(person, "role", PERSON_ROLES, "invalid_role", out, path=f"{path}.role")
    _check_enum(person, "sex", PERSON_SEXES, "invalid_sex", out, path=f"{path}.sex", nullable=True)
    age = person.get("age")
    if age is not None and not (isinstance(age, int) and 0 <= age <= MAX_PERSON_AGE):
        out.append(
            Failure(
                "invalid_age",
                f"{path}.age",
                f"Field {path}.age is out of range; expected 0 to {MAX_PERSON_AGE} or null.",
            )
        )


def _check_report(record: dict[str, Any], ctx: ValidationContext, out: list[Failure]) -> None:
    _check_id(record, "report_id", out)
    _check_id(record, "agency_id", out)
    _check_not_future(record.get("submitted_at"), "submitted_at", ctx, out)
    _check_enum(record, "channel", REPORT_CHANNELS, "invalid_channel", out)
    category = record.get("category")
    if not isinstance(category, str) or not _CATEGORY_RE.match(category):
        out.append(
            Failure(
                "invalid_category",
                "category",
                f"Field category is {_echo(category)}; expected a lower-case machine category "
                "of letters, digits and underscores such as suspicious_activity (it is "
                "published, so it may not be free text).",
            )
        )
    _check_location(record, ctx, out)


def _check_engagement(record: dict[str, Any], ctx: ValidationContext, out: list[Failure]) -> None:
    _check_id(record, "engagement_id", out)
    _check_id(record, "agency_id", out)
    _check_revision(record, out)
    kind = record.get("kind")
    _check_enum(record, "kind", ENGAGEMENT_KINDS, "invalid_kind", out)
    _check_enum(record, "status", ENGAGEMENT_STATUSES, "invalid_status", out)
    starts, ends = record.get("starts_at"), record.get("ends_at")
    # Scheduled events lie in the future by nature; a survey answer or a held event cannot.
    if kind == SURVEY_RESPONSE or record.get("status") == "held":
        _check_not_future(starts, "starts_at", ctx, out)
    else:
        _check_utc(starts, "starts_at", ctx, out)
    if (
        ends is not None
        and _check_utc(ends, "ends_at", ctx, out)
        and isinstance(starts, datetime)
        and starts.tzinfo is not None
        and ends < starts
    ):
        out.append(
            Failure(
                "ends_before_starts",
                "ends_at",
                f"Field ends_at is {ends.isoformat()}, before starts_at "
                f"({starts.isoformat()}); expected an end at or after the start.",
            )
        )
    _check_district(record, ctx, out)
    count = record.get("attendee_count")
    if count is not None and not (isinstance(count, int) and count >= 0):
        out.append(
            Failure(
                "negative_attendee_count",
                "attendee_count",
                f"Field attendee_count is {count}; expected 0 or more, or null when unknown.",
            )
        )
    _check_survey(record, kind, out)


def _check_survey(record: dict[str, Any], kind: Any, out: list[Failure]) -> None:
    survey = record.get("survey")
    if kind == SURVEY_RESPONSE and survey is None:
        out.append(
            Failure(
                "survey_missing",
                "survey",
                "Field survey is null but kind is survey_response; give the survey answers.",
            )
        )
    elif kind != SURVEY_RESPONSE and survey is not None:
        out.append(
            Failure(
                "unexpected_survey",
                "survey",
                f"Field survey is set but kind is {_echo(kind)}; survey answers belong only to "
                "kind survey_response.",
            )
        )
    if survey is None:
        return
    for name in ("trust_score", "safety_score"):
        score = survey.get(name)
        if not isinstance(score, int) or not SURVEY_SCORE_MIN <= score <= SURVEY_SCORE_MAX:
            out.append(
                Failure(
                    "score_out_of_range",
                    f"survey.{name}",
                    f"Field survey.{name} is {_echo(score)}; expected a whole number from "
                    f"{SURVEY_SCORE_MIN} to {SURVEY_SCORE_MAX}.",
                )
            )


_CHECKS: dict[str, Callable[[dict[str, Any], ValidationContext, list[Failure]], None]] = {
    "incident": _check_incident,
    "report": _check_report,
    "engagement": _check_engagement,
}
