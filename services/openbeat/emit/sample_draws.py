"""The random draws the synthetic sample is made of: weighted picks, names, addresses, phones.

Split from emit/sample.py so the record shapes there read apart from the value formats here. Every
draw goes through the one seeded `random.Random` of the generator, in a fixed order, because the
sample must be the same for the same (seed, chunk) in every process.
"""

from __future__ import annotations

import random
import string
from bisect import bisect
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import cache
from itertools import accumulate
from typing import Any, TypeVar

from openbeat.emit import sample_pools as P
from openbeat.emit.sample_geo import DistrictSampler

T = TypeVar("T")


_PLATE_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"


class Picker:
    """Weighted choice from a fixed table by bisecting precomputed cumulative weights."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.items = [p[0] for p in pairs]
        self.cum = list(accumulate(p[1] for p in pairs))
        self.total = self.cum[-1]

    def __call__(self, rng: random.Random) -> Any:
        return self.items[bisect(self.cum, rng.random() * self.total)]


@cache
def template_fields(template: str) -> tuple[str, ...]:
    """The `{name}` fields a template uses, in order of first use: only those are made up
    (each costs random draws). A tuple, not a set: set order varies with the string hash seed
    per process, and the draw order must not."""
    return tuple(dict.fromkeys(f for _, f, _, _ in string.Formatter().parse(template) if f))


def mdy(day: date) -> str:
    return f"{day.month:02d}/{day.day:02d}/{day.year}"


def hm(moment: datetime) -> str:
    return f"{moment.hour:02d}:{moment.minute:02d}"


class Draws:
    """Value draws shared by every record kind; the generator sets the fields below."""

    rng: random.Random
    random: Callable[[], float]
    streets: list[str]
    geo: DistrictSampler
    tag: str
    counter: int

    def pick(self, seq: Sequence[T]) -> T:
        return seq[int(self.random() * len(seq))]

    def between(self, low: int, high: int | None = None) -> int:
        """Like randrange(low, high) with one draw: about twice as fast, equally uniform here."""
        if high is None:
            low, high = 0, low
        return low + int(self.random() * (high - low))

    def next_id(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-{self.tag}-{self.counter:07d}"

    def name(self) -> str:
        return f"{self.pick(P.FIRST_NAMES)} {self.pick(P.LAST_NAMES)}"

    def street(self) -> str:
        return self.pick(self.streets)

    def address(self) -> str:
        return f"{self.between(100, 12999)} {self.street()}"

    def location(self) -> str:
        if self.random() < 0.15:
            return f"{self.street()} & {self.street()}"
        return self.address()

    def phone(self) -> str:
        area, line = self.pick(P.AREA_CODES), f"01{self.between(100):02d}"
        style = self.random()
        if style < 0.4:
            return f"({area}) 555-{line}"
        if style < 0.8:
            return f"{area}-555-{line}"
        return f"{area}.555.{line}" if style < 0.9 else f"+1 {area} 555 {line}"

    def email(self, name: str) -> str:
        first, last = name.lower().split(" ", 1)
        user = f"{first}.{last}" if self.random() < 0.6 else f"{first[0]}{last}{self.between(99)}"
        return f"{user}@{self.pick(P.EMAIL_DOMAINS)}"

    def plate(self) -> str:
        r, a = self.random, _PLATE_LETTERS
        letters = a[int(r() * 23)] + a[int(r() * 23)] + a[int(r() * 23)]
        return (
            f"{letters} {self.between(1000, 9999)}"
            if self.random() < 0.6
            else (f"{self.between(1, 9)}{letters}{self.between(100, 999)}")
        )

    def district(self) -> tuple[int, str]:
        i = int(self.random() * len(self.geo.ids))
        return i, self.geo.ids[i]

    def person(self, role: str, when: date, minor: bool) -> dict[str, Any]:
        name = self.name()
        age = self.between(12, 18) if minor else self.between(18, 80)
        dob = date.fromordinal(when.toordinal() - int(age * 365.25) - self.between(1, 360))
        return {
            "role": role, "name": name, "date_of_birth": dob, "age": age,
            "sex": self.pick(("F", "M", "M", "F", "X", "U")),
            "phone": self.phone() if self.random() < 0.85 else None,
            "email": self.email(name) if self.random() < 0.6 else None,
            "address": self.address(),
        }  # fmt: skip
