"""Turning exceptions into the one line a CLI user or an operator reads, and telling which
faults waiting may cure (runtime.supervise restarts on those; runtime.loop names them)."""

from __future__ import annotations

from kafka.errors import (
    AuthorizationError,
    IncompatibleBrokerVersion,
    InvalidConfigurationError,
    KafkaConfigurationError,
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    SaslAuthenticationFailedError,
    UnrecognizedBrokerVersion,
    UnsupportedVersionError,
)

# Kafka errors that another attempt cannot fix: they end the service with their message.
_FATAL_KAFKA = (
    AuthorizationError,
    IncompatibleBrokerVersion,
    InvalidConfigurationError,
    KafkaConfigurationError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    SaslAuthenticationFailedError,
    UnrecognizedBrokerVersion,
    UnsupportedVersionError,
)


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


def is_transient(exc: BaseException) -> bool:
    """A fault of the broker, the network or the store, which waiting may cure."""
    from botocore.exceptions import BotoCoreError

    from openbeat.store.base import StoreUnavailable

    if isinstance(exc, StoreUnavailable):
        return True
    if isinstance(exc, KafkaError):
        return not isinstance(exc, _FATAL_KAFKA)
    # Connection resets and timeouts that escaped a client's own handling.
    return isinstance(exc, ConnectionError | TimeoutError | BotoCoreError)


def describe_fault(exc: BaseException, bootstrap: str) -> str:
    """What is wrong, in the operator's words, with the underlying error."""
    from openbeat.store.base import StoreUnavailable

    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    name = type(exc).__name__
    # KafkaError's own str() already starts with the class name.
    text = text.removeprefix(f"{name}: ")
    cause = f"{name}: {text}" if text and text != name else name
    if isinstance(exc, StoreUnavailable):
        return f"the object store is unavailable ({cause})"
    from openbeat.runtime.membership import GroupJoinStuck

    if isinstance(exc, GroupJoinStuck):
        return text  # the broker answers; the client stalled (runtime.membership)
    if isinstance(exc, KafkaError):
        return f"Kafka at {bootstrap} is unavailable or not answering ({cause})"
    return f"network fault ({cause})"
