"""Turning exceptions into the one line a CLI user reads."""

from __future__ import annotations

from kafka.errors import KafkaTimeoutError


def describe_error(exc: BaseException) -> str:
    """One sentence: what failed and, where we know it, how to fix it."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError) and exc.title.endswith("Settings"):
        from openbeat.runtime.settings import describe_settings_error

        return describe_settings_error(exc)
    text = str(exc).strip() or exc.__class__.__name__
    if isinstance(exc, KafkaTimeoutError) and "bootstrap" in text.lower():
        from openbeat.runtime.settings import CommonSettings

        where = CommonSettings().kafka_bootstrap
        return (
            f"cannot reach Kafka at {where}: start it with `make up` "
            "or set OPENBEAT_KAFKA_BOOTSTRAP"
        )
    if isinstance(exc, KafkaTimeoutError):
        from openbeat.runtime.settings import CommonSettings

        where = CommonSettings().kafka_bootstrap
        return (
            f"Kafka at {where} did not answer in time ({text}); is the broker up "
            "(`make up`) and OPENBEAT_KAFKA_BOOTSTRAP right?"
        )
    if isinstance(exc, FileNotFoundError):
        return f"file not found: {exc.filename}"
    return text.splitlines()[0]
