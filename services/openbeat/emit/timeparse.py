"""`datetime.strptime` for the plain numeric formats of agency exports, without its overhead.

`strptime` builds (or fetches) a regex for the format, checks the locale, matches and then
interprets every directive in Python: about 9 µs a call, the dearest step of converting a row
whose times are all different (a busy city's export repeats a minute a few times at most).
`parse` matches the common shapes of an export's times (`%m/%d/%Y %I:%M:%S %p`,
`%Y-%m-%d %H:%M:%S`, ...) with one precompiled regex and builds the datetime directly.

It returns what `strptime` returns or defers to it: a format is planned only when it is built
of `%Y %m %d %H %I %M %S %p`, each at most once (with a year, month and day, and not both `%H`
and `%I`), separated by literal punctuation or spaces; a text is read here only when every field
has its full width in ASCII digits (`03`, not `3`), `%p` is `AM`/`PM` in either case and each
separator is the very character of the format. Such a text has one reading under `strptime`'s
own regex, so both agree; any other text (a shorter field, two spaces, an out-of-range value, a
date that does not exist) goes to `strptime`, which parses it or raises its own ValueError.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import datetime

logger = logging.getLogger(__name__)

# Directive -> (digits, smallest, largest) as strptime's regex allows them (%S up to 61 for leap
# seconds; datetime itself then refuses 60 and 61, so those texts end in strptime's error).
_FIELDS = {
    "Y": (4, 0, 9999),
    "m": (2, 1, 12),
    "d": (2, 1, 31),
    "H": (2, 0, 23),
    "I": (2, 1, 12),
    "M": (2, 0, 59),
    "S": (2, 0, 61),
}
# Separators between directives: characters strptime matches literally (it escapes regex
# characters and reads a space as "one or more spaces", which a single space satisfies).
_SEPARATORS = frozenset("/-:., T")
# strptime compares %p case-insensitively with the locale's words; these are the C locale's,
# checked against strptime itself when a format is planned.
_MERIDIEM = {"AM": 0, "am": 0, "PM": 12, "pm": 12}
# Formats planned so far (a mapping uses one or two); None for a format left to strptime.
_PLANS: dict[str, Callable[[str], datetime] | None] = {}


def parse(text: str, fmt: str) -> datetime:
    """`datetime.strptime(text, fmt)`, faster for the formats above (ValueError alike)."""
    try:
        plan = _PLANS[fmt]
    except KeyError:
        plan = _PLANS[fmt] = _plan(fmt)
    if plan is None:
        return datetime.strptime(text, fmt)
    return plan(text)


def _plan(fmt: str) -> Callable[[str], datetime] | None:
    parts = re.split(r"%(.)", fmt)  # literal, directive, literal, directive, ..., literal
    literals, directives = parts[0::2], parts[1::2]
    if (
        any(d not in _FIELDS and d != "p" for d in directives)
        or len(set(directives)) != len(directives)
        or not {"Y", "m", "d"} <= set(directives)
        or {"H", "I"} <= set(directives)
        or ("p" in directives) != ("I" in directives)
        or any(not text for text in literals[1:-1])  # two directives side by side
        or any(c not in _SEPARATORS for text in literals for c in text)
    ):
        return None
    pattern = re.escape(literals[0])
    for directive, literal in zip(directives, literals[1:], strict=True):
        if directive == "p":
            pattern += "(AM|PM|am|pm)"
        else:
            pattern += f"([0-9]{{{_FIELDS[directive][0]}}})"
        pattern += re.escape(literal)
    match = re.compile(pattern + r"\Z").match
    # Per datetime argument (year, month, day, hour, minute, second): the regex group holding
    # it (None: strptime's default), the default and the range strptime's regex accepts.
    slots = []
    for name, default in (("Y", 1900), ("m", 1), ("d", 1), ("H", 0), ("M", 0), ("S", 0)):
        if name == "H" and "I" in directives:
            name = "I"
        index = directives.index(name) if name in directives else None
        slots.append((index, default, _FIELDS[name][1], _FIELDS[name][2]))
    meridiem = directives.index("p") if "p" in directives else None
    strptime = datetime.strptime

    def plan(text: str) -> datetime:
        found = match(text)
        if found is None:
            return strptime(text, fmt)
        groups = found.groups()
        numbers = []
        for index, default, low, high in slots:
            if index is None:
                numbers.append(default)
                continue
            number = int(groups[index])
            if not low <= number <= high:
                return strptime(text, fmt)  # raises strptime's error
            numbers.append(number)
        if meridiem is not None:  # 12 AM is hour 0, 12 PM hour 12, as strptime reads them
            numbers[3] = numbers[3] % 12 + _MERIDIEM[groups[meridiem]]
        try:
            year, month, day, hour, minute, second = numbers
            return datetime(year, month, day, hour, minute, second)
        except ValueError:  # a day the month lacks
            return strptime(text, fmt)  # raises strptime's error

    if not _agrees(plan, fmt):
        logger.debug("time format %r left to strptime (locale words differ)", fmt)
        return None
    return plan


def _agrees(plan: Callable[[str], datetime], fmt: str) -> bool:
    """The plan reads a few sample times as strptime does (the locale's am/pm words above all)."""
    for sample in (datetime(2014, 3, 9, 0, 5, 7), datetime(2014, 11, 2, 12, 59, 59)):
        for hour in (sample.hour, sample.hour + 1, 13, 23):
            moment = sample.replace(hour=hour)
            for text in {moment.strftime(fmt), moment.strftime(fmt).lower()}:
                try:
                    if plan(text) != datetime.strptime(text, fmt):
                        return False
                except ValueError:
                    return False
    return True
