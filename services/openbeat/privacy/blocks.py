"""Address generalization, Chicago style: exact addresses to hundred blocks or intersections.

`1234 W Main Street Apt 4B` -> `012XX W MAIN ST`; house numbers 0-99 give `0000X` as Chicago's
own data does (`0000X N STATE ST`). Intersections (`A & B`, `A and B`, `A / B`, `A at B`, SF's
`A ST \\ B ST`) become `A ST / B AVE`. Already generalized input (`055XX S ADA ST`, Seattle's
`57XX BLOCK OF 39TH AVE S`, `1200 block of Main St`) is kept. Anything unparseable, a bare street
without a number, or a street that still carries a digit sequence that could be a house number
falls back to the district (None): when unsure we publish less. Nothing after the street type
is kept (`1234 W MAIN ST ZEBULON QUIXOTIC AVE` -> `012XX W MAIN ST`): a name written after the
street must not ride along in the block.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Literal

Precision = Literal["block", "intersection", "district"]

# USPS Publication 28 suffixes (the common ones) and the variants agencies type.
SUFFIXES: dict[str, str] = {
    "ALLEY": "ALY", "ALY": "ALY", "AVENUE": "AVE", "AVE": "AVE", "AV": "AVE", "AVN": "AVE",
    "BOULEVARD": "BLVD", "BLVD": "BLVD", "BLV": "BLVD", "CIRCLE": "CIR", "CIR": "CIR",
    "COURT": "CT", "CT": "CT", "CRESCENT": "CRES", "CRES": "CRES", "DRIVE": "DR", "DR": "DR",
    "EXPRESSWAY": "EXPY", "EXPY": "EXPY", "FREEWAY": "FWY", "FWY": "FWY", "HIGHWAY": "HWY",
    "HWY": "HWY", "LANE": "LN", "LN": "LN", "PARKWAY": "PKWY", "PKWY": "PKWY", "PLACE": "PL",
    "PL": "PL", "PLAZA": "PLZ", "PLZ": "PLZ", "ROAD": "RD", "RD": "RD", "SQUARE": "SQ",
    "SQ": "SQ", "STREET": "ST", "ST": "ST", "STR": "ST", "TERRACE": "TER", "TER": "TER",
    "TRAIL": "TRL", "TRL": "TRL", "TURNPIKE": "TPKE", "TPKE": "TPKE", "WAY": "WAY",
    "WALK": "WALK", "ROW": "ROW", "LOOP": "LOOP", "CONCOURSE": "CONC", "CONC": "CONC",
    "WY": "WAY", "PKY": "PKWY", "PARK": "PARK", "MALL": "MALL", "EXT": "EXT", "PATH": "PATH",
    "PIKE": "PIKE", "XING": "XING", "CROSSING": "XING", "HEIGHTS": "HTS", "HTS": "HTS",
    "SD": "SD", "XPRS": "XPRS", "RAMP": "RAMP", "TUNNEL": "TUNL", "TUNL": "TUNL",
}  # fmt: skip
# Streets without a type word that cities publish as such (every other street must end with
# its type, so `1234 W MAIN ST JOHN SMITH` is not published as a block).
NAMED_WAYS = frozenset({"BROADWAY", "EMBARCADERO", "BOWERY", "ESPLANADE", "CONCOURSE"})
# Carriageway markers after the street: northbound, southbound, outbound, ...
BOUNDS = frozenset({"NB", "SB", "EB", "WB", "OB", "IB"})
DIRECTIONALS: dict[str, str] = {
    "NORTH": "N", "SOUTH": "S", "EAST": "E", "WEST": "W", "NORTHEAST": "NE",
    "NORTHWEST": "NW", "SOUTHEAST": "SE", "SOUTHWEST": "SW", "N": "N", "S": "S", "E": "E",
    "W": "W", "NE": "NE", "NW": "NW", "SE": "SE", "SW": "SW",
}  # fmt: skip
_ABBREVIATED_DIRECTIONALS = frozenset(DIRECTIONALS.values())
_SUFFIX_VALUES = frozenset(SUFFIXES.values())
# Words after which a bare number is a route number (HWY 41), not a house number.
ROUTE_WORDS = frozenset({"HWY", "HIGHWAY", "ROUTE", "RTE", "RT", "US", "SR", "CR", "FM", "SH"})
# A unit designator (and everything after it) is dropped: it identifies a home, not a block.
UNIT_WORDS = frozenset(
    {"APT", "APARTMENT", "UNIT", "STE", "SUITE", "RM", "ROOM", "FL", "FLR", "FLOOR", "BLDG",
     "BUILDING", "LOT", "SPC", "TRLR", "DEPT", "BSMT", "NO"}
)  # fmt: skip

# Street types that end a street name: what follows one is not part of the street (a name, a
# business, a story) and is cut, except the tails below. Types that are often part of a name
# (`LAKE PARK AVE`, `BERNAL HEIGHTS BLVD`, `LITHUANIAN PLAZA CT`) end it only when no other
# type follows them directly.
SOFT_TYPES = frozenset(
    {"PARK", "HEIGHTS", "HTS", "PLAZA", "PLZ", "SQUARE", "SQ", "MALL", "WALK", "ROW", "LOOP",
     "PATH", "PIKE", "XING", "CROSSING", "CRESCENT", "CRES", "CONCOURSE", "CONC", "ALLEY", "ALY",
     "EXT", "RAMP", "TUNNEL", "TUNL", "SD", "XPRS", "TRAIL", "TRL"}
)  # fmt: skip
# What may follow a street type: a directional or carriageway (`AURORA AVE N`, `LAKE SHORE DR
# SB`), a ramp, tunnel or extension (`SAN BRUNO AVE OFF RAMP`, `2ND AVE EXT S`).
_TAIL_WORDS = frozenset({"ON", "OFF", "RAMP", "TUNNEL", "TUNL", "EXT"})


def _through_street_type(tokens: list[str]) -> list[str]:
    """The tokens up to the street type, and its allowed tail; nothing after.

    `W MAIN ST ZEBULON QUIXOTIC AVE` -> `W MAIN ST`: the first street type after a name ends the
    street. A type without a name before it is the name (`S AVENUE N`, `ST PAUL AVE`,
    `S DR MARTIN LUTHER KING JR DR`); a named way (`BROADWAY`) is name and type at once.
    """
    named = False
    for i, token in enumerate(tokens):
        if token in NAMED_WAYS:
            return tokens[: i + 1] + _tail(tokens[i + 1 :], token)
        if token in SUFFIXES and named:
            rest = tokens[i + 1 :]
            if token in SOFT_TYPES and rest and rest[0] in SUFFIXES and rest[0] not in SOFT_TYPES:
                continue  # LAKE PARK AVE: PARK is part of the name
            if (
                token in SOFT_TYPES
                and rest
                and rest[0] in SOFT_TYPES
                and rest[0] not in _TAIL_WORDS
            ):
                continue  # HOLLY PARK CIR, CENTRAL PARK TRL
            return tokens[: i + 1] + _tail(rest, token)
        if token not in DIRECTIONALS:
            named = True
    return tokens


def _tail(rest: list[str], street_type: str) -> list[str]:
    """The part after a street type that is still the street, else nothing."""
    if not rest:
        return []
    if street_type in ROUTE_WORDS and rest[0].isdigit() and len(rest[0]) <= 3:
        return rest[:1] + _tail(rest[1:], "")  # STATE HWY 41 N
    if len(rest) == 1 and len(rest[0]) == 1 and rest[0].isalpha():
        return rest  # AVENUE X
    if all(t in DIRECTIONALS or t in BOUNDS or t in _TAIL_WORDS for t in rest) and len(rest) <= 3:
        return rest
    return []


# A leading house number: 1234, 123A, 12-14 (range) or Queens' 104-10 (fractions are gone).
_HOUSE = re.compile(r"^(\d{1,6})(?:\s*-\s*(\d{1,5}))?([A-Z])?\s+(.+)$")
# `12 1/2 MAIN ST`: the half does not change the hundred block, and its slash is no crossing.
_FRACTION = re.compile(r"(\d)\s*1/2\b")
# Already generalized: Chicago 055XX / 0000X, Seattle 57XX BLOCK OF, "1200 BLOCK OF".
_GENERALIZED = re.compile(
    r"^(?:(\d{1,4})XX|(0000X)|(\d{1,6})\s+BLOCK)\s+(?:BLOCK\s+)?(?:OF\s+)?(.+)$"
)
# Intersection separators; a bare slash too (Seattle writes `42ND AVE S/S MYRTLE ST`).
_CROSS = re.compile(r"\s*(?:\\|/|&|@|\+)\s*|\s+(?:AND|AT)\s+")
_ORDINAL_SUFFIX = {1: "ST", 2: "ND", 3: "RD"}
_ORDINAL = re.compile(r"^(\d{1,3})(?:ST|ND|RD|TH)$")
_ROUTE_TOKEN = re.compile(r"^(?:I|US|SR|CR)-\d{1,3}$")
_WORD = re.compile(r"^[A-Z](?:[A-Z'-]*[A-Z])?$")
_PARENS = re.compile(r"\([^)]*\)")
_DROP_CHARS = re.compile(r"[.,;:\"]")
_ALLOWED = re.compile(r"^[A-Z0-9 '#/\\&@+-]+$")
_SPACES = re.compile(r"\s+")
# Most addresses are already plain words and numbers with single spaces: `_clean` leaves those
# as they are, so they skip its substitutions.
_PLAIN = re.compile(r"[A-Z0-9]+(?: [A-Z0-9]+)*")

# Longer input is not an address (or is one with a story attached): district only.
MAX_ADDRESS_CHARS = 120


def generalize_address(address: str | None) -> tuple[str | None, Precision]:
    """(`012XX W MAIN ST`, "block"), (`A ST / B AVE`, "intersection") or (None, "district")."""
    if not address:
        return None, "district"
    return _generalize(address)


@lru_cache(maxsize=65536)
def _generalize(address: str) -> tuple[str | None, Precision]:
    text = _clean(address)
    if text is None:
        return None, "district"
    generalized = _GENERALIZED.match(text)
    if generalized:
        hundreds_text, zero_block, full_number, rest = generalized.groups()
        if zero_block:
            hundreds = 0
        elif hundreds_text is not None:
            hundreds = int(hundreds_text)
        else:
            hundreds = int(full_number) // 100
        return _block(hundreds, rest)
    if not _CROSS.search(text):
        house = _HOUSE.match(text)
        if house is None:
            return None, "district"  # a bare street name is not a block
        first, second, _letter, rest = house.groups()
        return _block(_house_number(first, second) // 100, rest)
    parts = [p for p in _CROSS.split(text) if p]
    streets: list[str] = []
    for part in parts:
        street = normalize_street(part, had_number=False)
        if street is None:
            return None, "district"
        if street not in streets:
            streets.append(street)
    if len(streets) < 2:
        return None, "district"
    return " / ".join(streets), "intersection"


def _clean(address: str) -> str | None:
    """Upper-case street line without punctuation, city, ZIP or parentheticals; None if odd."""
    if len(address) > MAX_ADDRESS_CHARS:
        return None
    upper = address.upper()
    if _PLAIN.fullmatch(upper):
        return upper
    return _clean_text(upper)


def _clean_text(upper: str) -> str | None:
    """`_clean` of any upper-cased text (the plain case gives the text itself)."""
    text = upper.replace("½", " 1/2").replace("\u00bd", " 1/2")
    text = text.split(",", 1)[0]  # "123 Main St, Apt 4, Riverton IL": the street line only
    text = _PARENS.sub(" ", text)
    text = _FRACTION.sub(r"\1", text)
    text = _DROP_CHARS.sub("", text)
    text = _SPACES.sub(" ", text).strip()
    if not text or not _ALLOWED.match(text):
        return None
    return text


def _house_number(first: str, second: str | None) -> int:
    """The number whose hundred block is published.

    `12-14` is a range (use its start); Queens writes `104-10` for house 10 on the 104th-street
    grid, i.e. number 10410. A two-digit second part that is not a short ascending range of
    two-digit numbers is read the Queens way.
    """
    if second is None:
        return int(first)
    low, high = int(first), int(second)
    is_short_range = len(first) == len(second) and 0 < high - low <= 10 and second[0] != "0"
    if len(second) == 2 and not is_short_range:
        return low * 100 + high
    return low


def _block(hundreds: int, rest: str) -> tuple[str | None, Precision]:
    # Beyond 999XX no US city numbers its houses; such a "number" is something else.
    if hundreds > 999 or _CROSS.search(rest):
        return None, "district"
    street = normalize_street(rest, had_number=True)
    if street is None:
        return None, "district"
    prefix = "0000X" if hundreds == 0 else f"{hundreds:03d}XX"
    return f"{prefix} {street}", "block"


@lru_cache(maxsize=65536)
def normalize_street(text: str, *, had_number: bool) -> str | None:
    """`west 127 street` -> `W 127TH ST`; None when a token could be a house or unit number.

    Cached: a city has far fewer streets than addresses, and `_generalize` (cached per address)
    meets each street again under every house number.
    """
    tokens = text.split()
    for i, token in enumerate(tokens):
        if i > 0 and (token in UNIT_WORDS or token.startswith("#")):
            tokens = tokens[:i]
            break
    if not tokens or any(t.startswith("#") for t in tokens):
        return None
    tokens = _through_street_type(tokens)
    out: list[str] = []
    last = len(tokens) - 1
    for i, token in enumerate(tokens):
        nxt = tokens[i + 1] if i < last else None
        prev = out[-1] if out else None
        if token.isdigit():
            if nxt is not None and nxt in SUFFIXES and len(token) <= 3:
                out.append(ordinal(int(token)))  # NYC "32 AVENUE" is 32ND AVE
            elif prev in ROUTE_WORDS and len(token) <= 3:
                out.append(token)
            else:
                return None  # a bare number: possibly a house or unit number
            continue
        ordinal_match = _ORDINAL.match(token)
        if ordinal_match:
            out.append(ordinal(int(ordinal_match.group(1))))
        elif _ROUTE_TOKEN.match(token):
            out.append(token)
        elif not _WORD.match(token):
            return None  # mixed letters and digits (4B, M8), stray symbols
        elif token in DIRECTIONALS and _is_directional_position(i, tokens, had_number):
            out.append(DIRECTIONALS[token])
        elif token in SUFFIXES and _is_suffix_position(i, tokens, out):
            out.append(SUFFIXES[token])
        else:
            out.append(token)
    return " ".join(out) if _is_street(out) else None


def _is_street(out: list[str]) -> bool:
    """A name plus a type at the end (`W MAIN ST`, `AURORA AVE N`, `S AVENUE N`, `HWY 41`)."""
    # Chicago's `S AVENUE N`, NYC's `AVENUE X`: a type word followed by a one-letter name.
    if len(out) >= 2 and len(out[-1]) == 1 and out[-2] in SUFFIXES:
        return True
    core = list(out)
    while core and (core[-1] in _ABBREVIATED_DIRECTIONALS or core[-1] in BOUNDS):
        core.pop()
    if not core:
        return False
    end = core[-1]
    if _ROUTE_TOKEN.match(end):
        return True  # I-90
    if end.isdigit():
        return len(core) >= 2  # HWY 41
    if end in NAMED_WAYS:
        return True
    if end in _SUFFIX_VALUES or end in SUFFIXES:
        return any(t not in _ABBREVIATED_DIRECTIONALS for t in core[:-1])
    return False


def _is_directional_position(i: int, tokens: list[str], had_number: bool) -> bool:
    """A leading (`W MAIN ST`) or trailing (`AURORA AVE N`) directional, not a name (NORTH AVE)."""
    last = len(tokens) - 1
    if i == 0 and last >= 1:
        nxt = tokens[1]
        return (nxt not in SUFFIXES or last >= 2) and (had_number or last >= 2 or nxt.isdigit())
    return i == last and i >= 2 and tokens[i - 1] in SUFFIXES


def _is_suffix_position(i: int, tokens: list[str], named: list[str]) -> bool:
    """The street type: the last token, or the one before a trailing directional, and only
    after a name (Chicago's `S AVENUE N` is a street called Avenue N)."""
    last = len(tokens) - 1
    has_name = any(t not in _ABBREVIATED_DIRECTIONALS for t in named)
    return has_name and (i == last or (i == last - 1 and tokens[last] in DIRECTIONALS))


def ordinal(n: int) -> str:
    """1 -> 1ST, 12 -> 12TH, 23 -> 23RD."""
    if 10 <= n % 100 <= 20:
        return f"{n}TH"
    return f"{n}{_ORDINAL_SUFFIX.get(n % 10, 'TH')}"


_PUBLIC_BLOCK = re.compile(r"^(?:0000X|\d{3}XX) [A-Z0-9' -]+$")
_DIGITS = re.compile(r"\d+")


def is_public_location(text: str) -> bool:
    """True for a hundred block or an intersection whose only digits are ordinals or routes.

    The verifier's check: every digit run in a published location must be the block prefix, an
    ordinal (`127TH`) or a route number (`HWY 41`, `I-90`).
    """
    if " / " in text:
        parts = text.split(" / ")
        if len(parts) < 2:
            return False
        return all(_street_digits_ok(p) and not _PUBLIC_BLOCK.match(p) for p in parts)
    if not _PUBLIC_BLOCK.match(text):
        return False
    return _street_digits_ok(text.split(" ", 1)[1])


def _street_digits_ok(street: str) -> bool:
    tokens = street.split()
    for i, token in enumerate(tokens):
        if not _DIGITS.search(token):
            continue
        if _ORDINAL.match(token) or _ROUTE_TOKEN.match(token):
            continue
        if token.isdigit() and i > 0 and tokens[i - 1] in ROUTE_WORDS and len(token) <= 3:
            continue
        return False
    return bool(tokens)
