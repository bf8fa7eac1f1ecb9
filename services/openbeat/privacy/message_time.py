"""Timestamps of public and restricted topic messages: no more precise than what is published.

Kafka stamps every message with its creation time to the millisecond unless the producer sets
one. On the public and restricted topics that time says when an agency's record was processed,
seconds after the report: a rape published with its date only had a timestamp 36 s after the
report (issue 9). So the anonymizer stamps every message it sends there with the start of the
local day it processed it on: the precision of a published date (reported_date, a withdrawal
appearing in a day's release), and still close to "now", which time-based retention and
consumers that seek by time rely on (an occurred time would put a backfill years in the past and
have retention delete it at once).
"""

from __future__ import annotations

import logging
from datetime import datetime, time, tzinfo

logger = logging.getLogger(__name__)


def message_timestamp_ms(now: datetime, zone: tzinfo) -> int:
    """Kafka timestamp (ms since the epoch) for a message produced at `now`: local midnight."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    day = now.astimezone(zone).date()
    return int(datetime.combine(day, time(0), tzinfo=zone).timestamp()) * 1000
