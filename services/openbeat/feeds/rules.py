"""Alert feed rules: which incidents alert, what counts as a spike, how far ahead meetings show.

The rules are data (`services/openbeat/data/alert_rules.toml`), validated once at start-up so a
typo in a deployment's rules file stops the alerter with a sentence naming the file and field
instead of silently publishing the wrong feeds.
"""

from __future__ import annotations

import logging
import string
import tomllib
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from openbeat.messages import Messages
from openbeat.paths import DATA_DIR

logger = logging.getLogger(__name__)

ALERT_RULES_FILE = DATA_DIR / "alert_rules.toml"


class AlertRulesError(ValueError):
    """An alert rules file that cannot be used; the message names the file and the field."""


def _check_template(value: str, allowed: frozenset[str]) -> str:
    """A title template may only use the placeholders the renderer fills in."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    except ValueError as exc:
        raise ValueError(f"malformed template {value!r}: {exc}") from exc
    unknown = sorted(names - allowed)
    if unknown:
        raise ValueError(
            f"unknown placeholder(s) {', '.join('{' + n + '}' for n in unknown)} "
            f"(allowed: {', '.join('{' + a + '}' for a in sorted(allowed))})"
        )
    return value


class SpikeRule(BaseModel):
    """A district's incidents in the last window far above its recent baseline."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_hours: int = Field(default=24, ge=1, le=24 * 7)
    baseline_days: int = Field(default=28, ge=1, le=366)
    factor: float = Field(default=3.0, gt=1.0)
    min_count: int = Field(default=5, ge=1)


class FeedTitles(BaseModel):
    """Channel titles and descriptions; `{city}`, `{district}` and `{days}` are filled in.

    Unset ones come from the jurisdiction's message catalogue (`feed.alerts`, ...), in its
    language; set one here only to override the catalogue's wording for a deployment.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    alerts: str | None = None
    alerts_description: str | None = None
    district: str | None = None
    district_description: str | None = None
    meetings: str | None = None
    meetings_description: str | None = None

    @field_validator("alerts", "alerts_description")
    @classmethod
    def _city_only(cls, value: str | None) -> str | None:
        return None if value is None else _check_template(value, frozenset({"city"}))

    @field_validator("district", "district_description")
    @classmethod
    def _city_district(cls, value: str | None) -> str | None:
        return None if value is None else _check_template(value, frozenset({"city", "district"}))

    @field_validator("meetings", "meetings_description")
    @classmethod
    def _city_days(cls, value: str | None) -> str | None:
        return None if value is None else _check_template(value, frozenset({"city", "days"}))

    def text(self, name: str, messages: Messages, **values: object) -> str:
        """The title `name`: this file's template if set, else the catalogue's `feed.<name>`."""
        template = getattr(self, name)
        if template is None:
            return messages.text(f"feed.{name}", **values)
        return str(template).format(**values)


class LinkTemplates(BaseModel):
    """Item link templates; values filled in are URL-quoted, so an id cannot steer the path."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    incident: str = "{base_url}/incidents/{public_id}.html"
    spike: str = "{base_url}/districts/{district}.html"
    meeting: str = "{base_url}/meetings/{public_id}.html"

    @field_validator("incident", "meeting")
    @classmethod
    def _by_public_id(cls, value: str) -> str:
        return _check_template(value, frozenset({"base_url", "public_id"}))

    @field_validator("spike")
    @classmethod
    def _by_district_day(cls, value: str) -> str:
        return _check_template(value, frozenset({"base_url", "district", "day"}))


class AlertRules(BaseModel):
    """Everything the alerter needs besides the jurisdiction."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_url: str
    language: str = Field(default="en-us", pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$")
    categories: tuple[str, ...] = Field(min_length=1)
    exclude_statuses: tuple[str, ...] = ("unfounded",)
    incident_max_age_days: int = Field(default=7, ge=1, le=366)
    feed_size: int = Field(default=100, ge=1, le=1000)
    meetings_horizon_days: int = Field(default=14, ge=1, le=366)
    cache_control: str = Field(default="public, max-age=60", min_length=1)
    links: LinkTemplates = Field(default_factory=LinkTemplates)
    spike: SpikeRule = Field(default_factory=SpikeRule)
    titles: FeedTitles = Field(default_factory=FeedTitles)

    @field_validator("base_url")
    @classmethod
    def _absolute_http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"must be an absolute http(s) URL, got {value!r}")
        if parts.query or parts.fragment:
            raise ValueError("must not carry a query or fragment")
        # One canonical form so links never get a double slash.
        return value.rstrip("/")

    @field_validator("categories", "exclude_statuses")
    @classmethod
    def _clean_names(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(v.strip() for v in value)
        if any(not v for v in cleaned):
            raise ValueError("entries must be non-empty strings")
        dupes = sorted({v for v in cleaned if cleaned.count(v) > 1})
        if dupes:
            raise ValueError(f"duplicate entries: {', '.join(dupes)}")
        return cleaned

    def unknown_categories(self, known: Iterable[str]) -> list[str]:
        """Alert categories no offense maps to (a typo would silently never alert)."""
        return sorted(set(self.categories) - set(known))

    def feed_url(self, key: str) -> str:
        """The public URL of an object key such as `feeds/alerts.rss`."""
        return f"{self.base_url}/{key}"


def load_alert_rules(path: str | Path | None = None, *, base_url: str | None = None) -> AlertRules:
    """Load and validate the alert rules (the shipped file when `path` is None).

    `base_url` overrides the file's value (a deployment setting, e.g. from the environment).
    Raises AlertRulesError naming the file and the first bad field.
    """
    file = Path(path) if path is not None else ALERT_RULES_FILE
    try:
        raw = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AlertRulesError(f"alert rules file {file} not found") from exc
    except tomllib.TOMLDecodeError as exc:
        raise AlertRulesError(f"{file}: not valid TOML: {exc}") from exc
    if base_url is not None:
        raw["base_url"] = base_url
    try:
        rules = AlertRules.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise AlertRulesError(f"{file}: field {where}: {first['msg']}") from exc
    logger.debug("loaded alert rules from %s: categories %s", file, ", ".join(rules.categories))
    return rules
