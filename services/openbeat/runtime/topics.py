"""The declarative topic list (infra/topics.toml) and `openbeat topics apply`.

`plan_topics` is pure: given the declared topics and what the broker has, it says what to create
and where the broker drifted. `apply_topics` is the thin shell that asks the broker and creates
what is missing. It never deletes, shrinks or reconfigures an existing topic on its own: drift is
reported for an operator to decide, because retention or partition changes lose or reorder data.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

logger = logging.getLogger(__name__)

DEFAULT_NAMESPACE = "openbeat"
KINDS = ("incident", "report", "engagement")
_PLURAL = {"incident": "incidents", "report": "reports", "engagement": "engagements"}


@dataclass(frozen=True)
class TopicNames:
    """Every topic name of one deployment.

    The names of SPEC 2 start with the namespace `openbeat`; another namespace lets two
    deployments (or two tests) share one cluster without seeing each other's events.
    """

    namespace: str = DEFAULT_NAMESPACE

    def raw(self, kind: str) -> str:
        return f"{self.namespace}.raw.{_PLURAL[kind]}"

    def public(self, kind: str) -> str:
        return f"{self.namespace}.public.{_PLURAL[kind]}"

    @property
    def withheld_incidents(self) -> str:
        return f"{self.namespace}.restricted.withheld-incidents"

    @property
    def survey_responses(self) -> str:
        return f"{self.namespace}.restricted.survey-responses"

    @property
    def deadletter(self) -> str:
        return f"{self.namespace}.deadletter"

    @property
    def revisions(self) -> str:
        return f"{self.namespace}.state.anonymizer-revisions"

    @property
    def leases(self) -> str:
        """The single writers' lease topic (runtime.lease)."""
        return f"{self.namespace}.state.leases"

    def kind_of_raw(self, topic: str) -> str | None:
        for kind in KINDS:
            if self.raw(kind) == topic:
                return kind
        return None

    def rename(self, declared_name: str) -> str:
        """A name from topics.toml (written with the default namespace) in this namespace."""
        prefix = DEFAULT_NAMESPACE + "."
        if declared_name.startswith(prefix):
            return f"{self.namespace}.{declared_name[len(prefix) :]}"
        return declared_name


class TopicsFileError(ValueError):
    """The topics file cannot be used; the message names the file and the field."""


class TopicSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    partitions: int = Field(ge=1)
    replication_factor: int = Field(ge=1)
    config: dict[str, str] = Field(default_factory=dict)


class _Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid")
    partitions: int = Field(3, ge=1)
    replication_factor: int = Field(1, ge=1)


class _TopicEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")
    partitions: int | None = Field(None, ge=1)
    replication_factor: int | None = Field(None, ge=1)
    config: dict[str, str] = Field(default_factory=dict)


class _TopicsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    defaults: _Defaults = Field(default_factory=_Defaults)
    topics: dict[str, _TopicEntry]


def load_topics(path: Path, names: TopicNames | None = None) -> list[TopicSpec]:
    """Read and validate the topics file, with names in the given namespace."""
    names = names or TopicNames()
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
        parsed = _TopicsFile.model_validate(raw)
    except FileNotFoundError as exc:
        raise TopicsFileError(f"topics file {path} not found; set OPENBEAT_TOPICS_FILE") from exc
    except tomllib.TOMLDecodeError as exc:
        raise TopicsFileError(f"{path}: not valid TOML: {exc}") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise TopicsFileError(f"{path}: field {where}: {first['msg']}") from exc
    return [
        TopicSpec(
            name=names.rename(name),
            partitions=entry.partitions or parsed.defaults.partitions,
            replication_factor=entry.replication_factor or parsed.defaults.replication_factor,
            config=entry.config,
        )
        for name, entry in parsed.topics.items()
    ]


@dataclass(frozen=True)
class ExistingTopic:
    """What the broker reports for a topic: partition count and the configs we declare."""

    name: str
    partitions: int
    config: dict[str, str]


@dataclass
class TopicPlan:
    create: list[TopicSpec] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)


def plan_topics(declared: list[TopicSpec], existing: dict[str, ExistingTopic]) -> TopicPlan:
    """Compare the declaration with the broker: what to create, what drifted (human sentences)."""
    plan = TopicPlan()
    for spec in declared:
        have = existing.get(spec.name)
        if have is None:
            plan.create.append(spec)
            continue
        problems = []
        if have.partitions != spec.partitions:
            problems.append(f"{have.partitions} partitions, declared {spec.partitions}")
        for key, want in sorted(spec.config.items()):
            got = have.config.get(key)
            if got != want:
                problems.append(f"{key}={got}, declared {want}")
        if problems:
            plan.drift.append(f"{spec.name}: " + "; ".join(problems))
        else:
            plan.unchanged.append(spec.name)
    return plan
