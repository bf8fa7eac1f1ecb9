"""One catalogue per language, every key in each, with the same placeholders; every code a
resident can meet (offense categories, statuses, event kinds) has a label in each."""

from __future__ import annotations

import pytest

from openbeat.contracts.offenses import load_offense_table
from openbeat.contracts.vocabulary import (
    ENGAGEMENT_STATUSES,
    INCIDENT_STATUSES,
    PUBLIC_ENGAGEMENT_KINDS,
)
from openbeat.messages import (
    MessagesError,
    available_languages,
    load_messages,
    placeholders,
    plain_words,
)


def test_english_and_spanish_are_shipped() -> None:
    assert {"en", "es"} <= set(available_languages())


@pytest.mark.parametrize("language", ["es"])
def test_every_catalogue_has_every_key_with_the_same_placeholders(language: str) -> None:
    english = load_messages("en").table
    other = load_messages(language).table
    assert set(other) == set(english)
    for group, entries in english.items():
        assert set(other[group]) == set(entries), group
        for key, text in entries.items():
            assert placeholders(other[group][key]) == placeholders(text), f"{group}.{key}"


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_code_a_resident_can_meet_has_a_label(language: str) -> None:
    table = load_messages(language).table
    assert set(load_offense_table().categories) <= set(table["category"])
    assert set(INCIDENT_STATUSES) | set(ENGAGEMENT_STATUSES) <= set(table["status"])
    assert set(PUBLIC_ENGAGEMENT_KINDS) <= set(table["kind"])


def test_unknown_codes_fall_back_to_plain_words() -> None:
    m = load_messages("en")
    assert m.label("topic", "cyber_safety") == "Online safety"
    assert m.label("topic", "new_topic_here") == "New topic here"
    assert plain_words("motor_vehicle_theft") == "Motor vehicle theft"


def test_an_unknown_language_names_the_shipped_ones() -> None:
    with pytest.raises(MessagesError, match=r"shipped: en, es"):
        load_messages("xx")


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "Downtown YMCA, 2 other partners"),
        ("es", "Downtown YMCA, otras 2 organizaciones"),
    ],
)
def test_unlisted_partners_are_counted_in_the_residents_language(
    language: str, expected: str
) -> None:
    """The data holds the stand-in "N other partners" (privacy/names.py); residents read it
    from the catalogue; a registry name is shown as published."""
    m = load_messages(language)
    assert m.partners(["Downtown YMCA", "2 other partners"]) == expected
    assert m.partners(["1 other partner"]) == m.text("other_partners.one")
    assert m.partners([]) == ""
