"""A scan of published text for what the privacy policy says must never leave (SPEC 4).

Pure: text in, findings out. It looks for e-mail addresses, phone numbers, exact street
addresses (a house number, not a hundred block like `012XX`), and, when lists are supplied,
agency (raw) ids and person names. It errs on the side of reporting: a finding is for a human
to look at, and a clean release has none.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

EMAIL = re.compile(r"(?<![\w.+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# North American numbers written with separators, (555) 123-4567, 555.123.4567, +1 555 123 4567,
# and international E.164-like numbers. Bare 10-digit runs are not flagged: byte counts and ids
# in manifests look the same.
PHONE = re.compile(
    r"(?<![\w.])(?:\+?1[\s.-])?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?![\w.]|\.\d)"
    r"|(?<![\w+])\+\d{1,3}[\s.-]?\d{2,4}[\s.-]?\d{3,4}[\s.-]?\d{3,4}(?![\w.])"
)
_SUFFIXES = (
    "ST|STREET|AVE|AVENUE|AV|RD|ROAD|BLVD|BOULEVARD|DR|DRIVE|LN|LANE|CT|COURT|PL|PLACE|WAY|"
    "TER|TERRACE|PKWY|PARKWAY|HWY|HIGHWAY|CIR|CIRCLE|SQ|SQUARE|TRL|TRAIL|PLZ|PLAZA"
)
# A house number (digits, maybe a letter or a range like 12-14) then up to three words and a
# street suffix: "1006 GERARD AVENUE", "12 N Main St". A hundred block ("012XX W MAIN ST") does
# not match: the number must be followed by a space, and `012XX` is followed by X; nor does the
# anonymizer's own block of houses 0-99, `0000X N STATE ST` (Chicago's form).
HOUSE_ADDRESS = re.compile(
    rf"(?<![\w./-])(?!0000X\s)\d{{1,6}}(?:-\d{{1,6}})?[A-Za-z]?\s+(?:[NSEW]\.?\s+)?"
    rf"(?:[A-Za-z0-9'.-]+\s+){{0,3}}(?:{_SUFFIXES})\.?(?![A-Za-z])",
    re.IGNORECASE,
)
# Necessary conditions of PHONE (every form ends in 3 digits, a separator, 4 digits, or is an
# E.164 number) and of HOUSE_ADDRESS (a digit, maybe one letter, then whitespace).
_PHONE_HINT = re.compile(r"\d{3}[\s.-]\d{4}|\+\d")
_HOUSE_HINT = re.compile(r"\d[A-Za-z]?\s")
# Ids and names shorter than this would match inside ordinary words and numbers.
MIN_TERM_LENGTH = 4
_TERMS_PER_PATTERN = 2000


@dataclass(frozen=True)
class Finding:
    kind: str  # email, phone, house_number, raw_id, name
    text: str  # the matched text, shortened


def _shorten(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _term_patterns(terms: Iterable[str], words: bool) -> list[re.Pattern[str]]:
    unique = sorted({t.strip() for t in terms if len(t.strip()) >= MIN_TERM_LENGTH}, key=len)
    unique.reverse()  # longest first, so "Ann Lee-Smith" wins over "Ann Lee"
    patterns = []
    for i in range(0, len(unique), _TERMS_PER_PATTERN):
        group = "|".join(re.escape(t) for t in unique[i : i + _TERMS_PER_PATTERN])
        edge = r"(?<![\w])" if words else r"(?<![A-Za-z0-9])"
        end = r"(?![\w])" if words else r"(?![A-Za-z0-9])"
        patterns.append(re.compile(f"{edge}(?:{group}){end}", re.IGNORECASE if words else 0))
    return patterns


class PiiScanner:
    """Compiled once per verify run; `scan(text)` yields what it finds."""

    def __init__(
        self,
        names: Iterable[str] = (),
        raw_ids: Iterable[str] = (),
        allowed_emails: Iterable[str] = (),
    ) -> None:
        self.name_patterns = _term_patterns(names, words=True)
        self.id_patterns = _term_patterns(raw_ids, words=False)
        self.allowed_emails = {e.lower() for e in allowed_emails}

    def scan(self, text: str) -> Iterator[Finding]:
        # Each full pattern runs only when a cheap necessary condition holds: verify scans
        # hundreds of MB, and most blocks have no '@', no phone tail and no number-space.
        if "@" in text:
            for match in EMAIL.finditer(text):
                if match.group(0).lower() not in self.allowed_emails:
                    yield Finding("email", _shorten(match.group(0)))
        if _PHONE_HINT.search(text):
            for match in PHONE.finditer(text):
                yield Finding("phone", _shorten(match.group(0)))
        if _HOUSE_HINT.search(text):
            for match in HOUSE_ADDRESS.finditer(text):
                yield Finding("house_number", _shorten(match.group(0)))
        for pattern in self.id_patterns:
            for match in pattern.finditer(text):
                yield Finding("raw_id", _shorten(match.group(0)))
        for pattern in self.name_patterns:
            for match in pattern.finditer(text):
                yield Finding("name", _shorten(match.group(0)))


def describe(finding: Finding) -> str:
    label = {
        "email": "e-mail address",
        "phone": "phone number",
        "house_number": "exact street address (house number, not a hundred block)",
        "raw_id": "agency (raw) id",
        "name": "person name",
    }[finding.kind]
    return f"{label}: {finding.text!r}"
