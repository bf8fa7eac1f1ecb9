"""No key or secret in any repr or log: the pseudonym key and the S3 secret stay out of both."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from openbeat.contracts.jurisdiction import load_jurisdiction
from openbeat.contracts.offenses import load_offense_table
from openbeat.privacy.anonymize import AnonymizeContext, anonymize
from openbeat.privacy.policy import load_policy
from openbeat.runtime.settings import AnonymizerSettings

KEY = "canary-secret-key-0123456789abcdef"


def test_reprs_and_logs_never_show_the_key(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OPENBEAT_PSEUDONYM_KEY", KEY)
    monkeypatch.setenv("OPENBEAT_S3_SECRET_KEY", KEY + "-s3")
    settings = AnonymizerSettings()
    ctx = AnonymizeContext(
        load_policy(), KEY.encode(), load_jurisdiction("sample"), load_offense_table()
    )
    caplog.set_level(logging.DEBUG)
    moment = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    record = {
        "agency_id": "RPD",
        "incident_id": "RPD-1",
        "revision": 1,
        "offense_code": "23H",
        "status": "open",
        "occurred_at": moment,
        "reported_at": moment,
        "address": "1234 W Main St",
        "district": "D1",
        "latitude": 41.48,
        "longitude": -88.28,
    }
    outputs = anonymize("incident", record, ctx)
    logging.getLogger("openbeat").debug("context %r settings %r", ctx, settings)
    for text in (repr(settings), repr(ctx), str(outputs), caplog.text):
        assert KEY not in text
