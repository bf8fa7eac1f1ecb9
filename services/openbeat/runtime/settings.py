"""Settings, read from the environment (prefix OPENBEAT_) and nowhere else.

One class per service, all sharing the connection settings of `CommonSettings`. Field
descriptions double as the `--help` text of the CLI.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from openbeat.paths import REPO_ROOT, TOPICS_FILE
from openbeat.releases.licenses import DEFAULT_LICENSE_URL

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# What each kind of pydantic error means for an environment variable, in the operator's words.
_ACCEPTED: dict[str, str] = {
    "int_parsing": "expected a whole number",
    "int_type": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "bool_parsing": "expected true or false (or 1/0, yes/no, on/off)",
    "bool_type": "expected true or false",
    "missing": "required, but not set",
    "string_too_short": "expected at least {min_length} characters",
    "string_too_long": "expected at most {max_length} characters",
    "string_pattern_mismatch": "expected text matching {pattern}",
    "greater_than_equal": "expected a number >= {ge}",
    "greater_than": "expected a number > {gt}",
    "less_than_equal": "expected a number <= {le}",
    "less_than": "expected a number < {lt}",
    "literal_error": "expected one of {expected}",
    "enum": "expected one of {expected}",
}


def describe_settings_error(exc: ValidationError) -> str:
    """The first problem of a settings error as one line: `OPENBEAT_X='value': expected ...`.

    Values of secret settings are never echoed.
    """
    errors = exc.errors(include_url=False)
    if not errors:
        return str(exc).splitlines()[0]
    first = errors[0]
    name = str(first["loc"][0]) if first["loc"] else ""
    variable = f"OPENBEAT_{name.upper()}" if name else "OPENBEAT_*"
    template = _ACCEPTED.get(first["type"])
    if template:
        try:
            accepted = template.format(**(first.get("ctx") or {}))
        except (KeyError, IndexError):
            accepted = first["msg"]
    else:
        accepted = str(first["msg"]).removeprefix("Value error, ")
    if first["type"] == "missing":
        return f"{variable}: {accepted}"
    value = first.get("input")
    shown = "'***'" if name in _SECRET_FIELDS else repr(str(value))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{variable}={shown}: {accepted}{more}"


class CommonSettings(BaseSettings):
    """Connection and deployment settings every service and command shares."""

    model_config = SettingsConfigDict(env_prefix="OPENBEAT_", extra="ignore")

    kafka_bootstrap: str = Field(
        "127.0.0.1:9092", description="Kafka bootstrap servers, comma separated"
    )
    jurisdiction: str = Field(
        "sample",
        description="Jurisdiction: a name under infra/jurisdictions/ or a path to a TOML file",
    )
    topic_namespace: str = Field(
        "openbeat",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$",
        description="First part of every topic name (openbeat.raw.incidents, ...)",
    )
    topics_file: Path = Field(TOPICS_FILE, description="Declarative topic list (TOML)")
    schemas_dir: Path = Field(REPO_ROOT / "schemas", description="Folder of Avro schemas (.avsc)")
    store: str = Field(
        str(REPO_ROOT / "var" / "store"),
        description="The public root (releases, catalog, feeds; what residents may read): "
        "a local folder or s3://bucket/prefix",
    )
    private_store: str | None = Field(
        None,
        description="Where private state goes (staged records, checkpoints): a folder, or on S3 "
        "another bucket or a never-public prefix; default a folder beside a local public "
        "store (var/store -> var/private), required with an S3 public store",
    )
    s3_endpoint: str | None = Field(
        None, description="S3 endpoint URL for MinIO or another S3-compatible store"
    )
    s3_access_key: SecretStr | None = Field(None, description="S3 access key id")
    s3_secret_key: SecretStr | None = Field(None, description="S3 secret access key")
    s3_region: str = Field("us-east-1", description="S3 region")
    policy: Path | None = Field(
        None, description="Privacy policy file (TOML); the shipped defaults when unset"
    )
    log_level: str = Field("INFO", description="Logging level: " + ", ".join(LOG_LEVELS))
    site: bool = Field(
        True, description="Rebuild the residents' site (index.html, ...) after releases and feeds"
    )

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        if value.upper() not in LOG_LEVELS:
            raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}")
        return value.upper()


class EmitSettings(CommonSettings):
    """The agency emitter (`openbeat emit`)."""

    emit_linger_ms: int = Field(
        20, description="Producer linger: how long to wait to fill a batch (ms)"
    )
    emit_batch_bytes: int = Field(262144, description="Producer batch size (bytes)")
    emit_compression: str | None = Field(
        None, description="Producer compression: gzip, snappy, lz4, zstd or none"
    )


class AnonymizerSettings(CommonSettings):
    """The anonymizer service (raw topics to public topics)."""

    pseudonym_key: SecretStr | None = Field(
        None, description="Secret key for HMAC-SHA256 public ids (required in production)"
    )
    allow_dev_key: bool = Field(
        False, description="Allow a built-in development key when no pseudonym key is set"
    )
    future_skew_seconds: int = Field(
        300, description="How far in the future a timestamp may be before it is rejected"
    )
    anonymizer_workers: int | None = Field(
        None,
        ge=0,
        description="Worker processes decoding, validating and anonymizing events beside the "
        "one sending them (0: all in one process); one per CPU when unset",
    )


class RunSettings(CommonSettings):
    """What every streaming service needs to join its consumer group."""

    instance_id: str = Field(
        "0",
        pattern=r"^[A-Za-z0-9_.-]{1,64}$",
        description="Unique id of this copy of a service; keep it across restarts of that copy",
    )
    max_batch: int = Field(2000, ge=1, description="Most input messages in one transaction")
    commit_interval_s: float = Field(
        5.0,
        gt=0,
        description="Store-writing services: how often output is made durable and offsets "
        "committed (seconds)",
    )
    assignment_timeout_s: float = Field(
        180.0,
        gt=0,
        description="`run --until-idle`: how long a service waits for its first partitions "
        "before it fails (seconds)",
    )
    retry_max_s: float = Field(
        30.0,
        gt=0,
        description="Longest wait (seconds) between restarts of a service after a transient "
        "fault (broker or store unavailable); waits double from 1 s up to this",
    )
    metrics_port: int = Field(
        0,
        ge=0,
        le=65535,
        description="Port of the Prometheus /metrics and the /healthz endpoint of `openbeat run` "
        "(0: off)",
    )


class PublishSettings(RunSettings):
    """The publisher, the aggregator and `openbeat release`."""

    public_base_url: str | None = Field(
        None,
        description="Public URL of the store root (for catalog and feed links); "
        "the store's own URL when unset",
    )
    license_url: str = Field(
        DEFAULT_LICENSE_URL,
        description="URL of the licence of the published data (Data Package and DCAT)",
    )
    release_interval_s: int = Field(
        86400,
        ge=0,
        description="The publisher cuts releases once per interval (0: only `openbeat release`)",
    )
    datasets_off: str = Field(
        "",
        description="Datasets this deployment does not produce, comma separated (e.g. "
        "community-reports,engagement-events): never released nor listed in the catalog",
    )

    @field_validator("datasets_off")
    @classmethod
    def _known_datasets(cls, value: str) -> str:
        from openbeat.releases.datasets import DATASETS

        names = [n.strip() for n in value.split(",") if n.strip()]
        unknown = [n for n in names if n not in DATASETS]
        if unknown:
            raise ValueError(f"expected dataset names from {', '.join(sorted(DATASETS))}")
        return ",".join(sorted(set(names)))

    @property
    def disabled_datasets(self) -> frozenset[str]:
        return frozenset(n for n in self.datasets_off.split(",") if n)


class AlerterSettings(PublishSettings):
    """The alerter (public topics to feeds); links use OPENBEAT_PUBLIC_BASE_URL."""

    alert_rules: Path | None = Field(
        None, description="Alert rules file (TOML); the shipped defaults when unset"
    )


# Settings whose values are never echoed in an error.
_SECRET_FIELDS = frozenset(
    name
    for cls in (CommonSettings, AnonymizerSettings, AlerterSettings)
    for name, info in cls.model_fields.items()
    if "SecretStr" in str(info.annotation)
)
