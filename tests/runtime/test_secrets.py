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


@pytest.mark.integration
def test_settings_services_and_their_logs_never_show_a_key(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    s3_endpoint: str,
    s3_bucket: str,
) -> None:
    """Every settings class and the services built from them (the anonymizer, the releaser that
    once held a noise secret derived from the key, the publisher, the stores on S3, all
    talking to the moto server over HTTP) keep the pseudonym key and the S3 secret key out of
    their reprs, their attributes' reprs and the log, at DEBUG. (The S3 access key id is an
    identifier, not a secret: botocore's own DEBUG lines name it in the request's credential
    scope.)"""
    from openbeat.pipeline.wiring import build_anonymizer, build_publisher, build_releaser
    from openbeat.runtime.settings import (
        AlerterSettings,
        CommonSettings,
        EmitSettings,
        PublishSettings,
        RunSettings,
    )
    from openbeat.store import open_stores

    secrets = (KEY, KEY + "-s3")
    monkeypatch.setenv("OPENBEAT_PSEUDONYM_KEY", secrets[0])
    monkeypatch.setenv("OPENBEAT_S3_SECRET_KEY", secrets[1])
    monkeypatch.setenv("OPENBEAT_S3_ACCESS_KEY", "canary-access-key-id")
    monkeypatch.setenv("OPENBEAT_S3_ENDPOINT", s3_endpoint)
    monkeypatch.setenv("OPENBEAT_STORE", f"s3://{s3_bucket}/public")
    monkeypatch.setenv("OPENBEAT_PRIVATE_STORE", f"s3://{s3_bucket}/state")
    monkeypatch.setenv("OPENBEAT_PUBLIC_BASE_URL", "https://data.example.org")
    monkeypatch.setenv("OPENBEAT_ANONYMIZER_WORKERS", "0")
    monkeypatch.setenv("OPENBEAT_SITE", "false")
    monkeypatch.setenv("OPENBEAT_LOG_LEVEL", "DEBUG")
    caplog.set_level(logging.DEBUG)
    every = [
        cls()
        for cls in (
            CommonSettings,
            EmitSettings,
            AnonymizerSettings,
            RunSettings,
            PublishSettings,
            AlerterSettings,
        )
    ]
    anonymizer = build_anonymizer(AnonymizerSettings())
    releaser = build_releaser(PublishSettings())
    publisher = build_publisher(PublishSettings())
    stores = open_stores(PublishSettings())
    objects = [*every, anonymizer, anonymizer.core, releaser, publisher, stores]
    texts = [repr(obj) for obj in objects]
    texts += [repr(vars(obj)) for obj in (anonymizer, anonymizer.core, publisher)]
    texts += [str(settings.model_dump()) for settings in every]
    logging.getLogger("openbeat").info("built %r %r %r", anonymizer, releaser, stores)
    texts.append(caplog.text)
    for text in texts:
        for secret in secrets:
            assert secret not in text
    # The releaser holds no secret material at all (it once held a noise secret derived from
    # the key, which its repr showed): nothing derived from a key hides behind another name.
    assert not [name for name, value in vars(releaser).items() if isinstance(value, bytes)]
    # The key really is in use (a test that could fail): the pseudonyms depend on it.
    assert anonymizer.core.actx.key == secrets[0].encode()
