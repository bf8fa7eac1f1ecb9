"""Free-text redaction: contact data, numbers, addresses, plates and names never survive."""

from __future__ import annotations

import pytest

from openbeat.privacy.redact import redact_text


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("write to jane.doe@example.com today", "jane.doe@example.com"),
        ("write to jane at example dot com", "example"),
        ("see https://example.org/a?b=c", "example.org"),
        ("see www.example.net/page", "example.net"),
        ("call (312) 555-0199", "555-0199"),
        ("call 312-555-0199", "0199"),
        ("call 312.555.0199", "0199"),
        ("call +1 312 555 0199", "0199"),
        ("call +44 20 7946 0958", "7946"),
        ("call 5550199", "5550199"),
        ("call 312-555-0199 ext 12", "ext 12"),
        ("he lives at 1234 W Main Street Apt 4B", "1234"),
        ("he lives at 1234 W Main Street Apt 4B", "4B"),
        ("party on the 1200 block of Elm", "1200"),
        ("car with plate ABC-1234 parked", "ABC-1234"),
        ("car with plate 7XYZ123 parked", "7XYZ123"),
        ("license plate is ab 123 cd", "ab 123 cd"),
        ("My neighbor John Smith is loud", "John"),
        ("My neighbor John Smith is loud", "Smith"),
        ("my neighbor john keeps yelling", "john"),
        ("Mr. Jones said so", "Jones"),
        ("mrs smith said so", "smith"),
        ("JOHN SMITH is selling stuff", "SMITH"),
        ("Saw José García near the park", "García"),
        ("Mrs. O'Brien called", "Brien"),
        ("unit 12 again", "12"),
        ("someone named tyler was there", "tyler"),
    ],
)
def test_secrets_are_removed(text: str, secret: str) -> None:
    assert secret not in redact_text(text)


def test_ordinary_words_survive() -> None:
    out = redact_text("There is loud music every night and people are yelling outside.")
    assert out == "There is loud music every night and people are yelling outside."


def test_markers_are_collapsed_and_output_is_bounded() -> None:
    assert redact_text("Tom Dick Harry") == "[NAME]"
    assert len(redact_text("a " * 5000)) <= 1000
