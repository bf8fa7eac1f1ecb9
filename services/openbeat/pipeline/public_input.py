"""How the sink stages (aggregator, publisher, alerter) read one record of a public or restricted
topic: the one decode every sink calls, so they all accept and refuse the same records.

Only the anonymizer writes these topics, so a record that does not decode, or carries a
timestamp outside the accepted range (contracts.timebounds; e.g. a year-0001 engagement
published before validation bounded timestamps), is a bug or an older deployment's leftover,
not agency input. Either way it must not stop the stage or a release, and it must not vanish:
the `ContractError` raised here is turned into a dead letter by the sink loop (see
runtime.deadletter), and the stage goes on with the next record.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime
from typing import Any

from openbeat.contracts.codec import ContractError, SchemaStore
from openbeat.contracts.timebounds import EARLIEST, OUT_OF_RANGE, bounds_problem, latest

logger = logging.getLogger(__name__)


def decode_topic_record(
    schemas: SchemaStore, message: Any, now: datetime | None = None
) -> dict[str, Any]:
    """The record of a public/restricted topic message; ContractError when it cannot be used."""
    record = schemas.decode(message.value).record
    problem = record_time_problem(record, now or datetime.now(UTC))
    if problem is not None:
        raise ContractError(OUT_OF_RANGE, problem)
    return record


def record_time_problem(record: dict[str, Any], now: datetime) -> str | None:
    """The sentence for the first top-level timestamp or date outside the accepted range."""
    for name, value in record.items():
        if isinstance(value, datetime):
            aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
            problem = bounds_problem(aware, name, now)
            if problem is not None:
                return problem
        elif isinstance(value, date) and not EARLIEST.date() <= value <= latest(now).date():
            return (
                f"Field {name} is {value.isoformat()}, outside the accepted range "
                f"{EARLIEST.date().isoformat()} to {latest(now).date().isoformat()}."
            )
    return None
