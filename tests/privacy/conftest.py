"""Fixtures of the privacy tests: the shipped policy, the sample city and an anonymizer context."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from openbeat.contracts.jurisdiction import Jurisdiction, load_jurisdiction
from openbeat.contracts.offenses import OffenseTable, load_offense_table
from openbeat.privacy.anonymize import AnonymizeContext
from openbeat.privacy.policy import Policy, load_policy

TEST_KEY = b"privacy-tests-key-0123456789abcdef"


@pytest.fixture(scope="session")
def policy() -> Policy:
    return load_policy()


@pytest.fixture(scope="session")
def jurisdiction() -> Jurisdiction:
    return load_jurisdiction("sample")


@pytest.fixture(scope="session")
def offenses() -> OffenseTable:
    return load_offense_table()


@pytest.fixture(scope="session")
def ctx(policy: Policy, jurisdiction: Jurisdiction, offenses: OffenseTable) -> AnonymizeContext:
    return AnonymizeContext(policy, TEST_KEY, jurisdiction, offenses)


@pytest.fixture(scope="session")
def make_ctx(
    policy: Policy, jurisdiction: Jurisdiction, offenses: OffenseTable
) -> Callable[..., AnonymizeContext]:
    """A context whose policy has some fields changed (nested tables as dicts)."""

    def make(**changes: Any) -> AnonymizeContext:
        data = policy.model_dump()
        for key, value in changes.items():
            if isinstance(value, dict):
                data[key] = {**data[key], **value}
            else:
                data[key] = value
        return AnonymizeContext(Policy.model_validate(data), TEST_KEY, jurisdiction, offenses)

    return make
