"""Settings errors as the one line an operator reads: variable, value, what is accepted."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from openbeat.runtime.settings import (
    AnonymizerSettings,
    CommonSettings,
    PublishSettings,
    describe_settings_error,
)


def _error(cls: type, monkeypatch: pytest.MonkeyPatch, **env: str) -> str:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        cls()
    return describe_settings_error(caught.value)


def test_not_a_number_names_variable_value_and_what_is_accepted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    line = _error(PublishSettings, monkeypatch, OPENBEAT_RELEASE_INTERVAL_S="daily")
    assert line.startswith("OPENBEAT_RELEASE_INTERVAL_S='daily': ")
    assert "whole number" in line and "\n" not in line


def test_bounds_patterns_and_log_levels(monkeypatch: pytest.MonkeyPatch) -> None:
    line = _error(PublishSettings, monkeypatch, OPENBEAT_RELEASE_INTERVAL_S="-5")
    assert line.startswith("OPENBEAT_RELEASE_INTERVAL_S='-5': ") and ">= 0" in line
    monkeypatch.delenv("OPENBEAT_RELEASE_INTERVAL_S")
    line = _error(CommonSettings, monkeypatch, OPENBEAT_TOPIC_NAMESPACE="a b")
    assert line.startswith("OPENBEAT_TOPIC_NAMESPACE='a b': ") and "matching" in line
    monkeypatch.delenv("OPENBEAT_TOPIC_NAMESPACE")
    line = _error(CommonSettings, monkeypatch, OPENBEAT_LOG_LEVEL="VERBOSE")
    assert line == (
        "OPENBEAT_LOG_LEVEL='VERBOSE': expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL"
    )


def test_secret_values_are_never_echoed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENBEAT_ANONYMIZER_WORKERS", "many")
    monkeypatch.setenv("OPENBEAT_PSEUDONYM_KEY", "s3cr3t-value")
    with pytest.raises(ValidationError) as caught:
        AnonymizerSettings()
    assert "s3cr3t-value" not in describe_settings_error(caught.value)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"OPENBEAT_LOG_LEVEL": "VERBOSE"}, "openbeat: error: OPENBEAT_LOG_LEVEL='VERBOSE': "),
        (
            {"OPENBEAT_RELEASE_INTERVAL_S": "daily"},
            "openbeat: error: OPENBEAT_RELEASE_INTERVAL_S='daily': ",
        ),
    ],
)
def test_the_cli_prints_one_line_and_exits_2(env: dict[str, str], expected: str) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("OPENBEAT_")}
    done = subprocess.run(
        [sys.executable, "-m", "openbeat.cli", "release", "--dataset", "incidents"],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.startswith(expected), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
