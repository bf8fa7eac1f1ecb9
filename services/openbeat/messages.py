"""The message catalogue: every word a resident reads on the site and in the feeds, per language.

One TOML file per language (`data/messages/<language>.toml`, English and Spanish shipped), chosen
by the jurisdiction's `language`. Codes never reach a resident: offense categories, statuses,
event kinds and topics go through `label`, which falls back to the code in plain words
("cyber_safety" -> "Cyber safety") only for a value the catalogue does not know yet. Times are
shown on the jurisdiction's wall clock with the zone's abbreviation.
"""

from __future__ import annotations

import logging
import string
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

from openbeat.paths import DATA_DIR
from openbeat.privacy.names import other_partners_count

logger = logging.getLogger(__name__)

MESSAGES_DIR = DATA_DIR / "messages"
DEFAULT_LANGUAGE = "en"
LABEL_GROUPS = ("category", "status", "kind", "topic")


class MessagesError(ValueError):
    """A catalogue that is missing or broken; the message names the file and the key."""


def available_languages() -> list[str]:
    return sorted(p.stem for p in MESSAGES_DIR.glob("*.toml"))


def placeholders(text: str) -> frozenset[str]:
    """The `{names}` a message uses."""
    return frozenset(n for _, n, _, _ in string.Formatter().parse(text) if n)


def plain_words(code: str) -> str:
    """`motor_vehicle_theft` -> `Motor vehicle theft` (for codes the catalogue lacks)."""
    words = code.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


@dataclass(frozen=True)
class Messages:
    """One language's catalogue: `text("site.title", city=...)`, `label("topic", code)`."""

    language: str
    table: dict[str, dict[str, str]]

    def text(self, key: str, **values: Any) -> str:
        group, _, name = key.partition(".")
        try:
            template = self.table[group][name]
        except KeyError:
            raise MessagesError(f"messages/{self.language}.toml has no key {key}") from None
        return template.format(**values) if values else template

    def label(self, group: str, code: str | None) -> str:
        """The resident-facing label of a code (category, status, kind or topic)."""
        if not code:
            return ""
        found = self.table.get(group, {}).get(code)
        return found if found is not None else plain_words(code)

    def labels(self, group: str, codes: list[str] | tuple[str, ...]) -> str:
        return ", ".join(self.label(group, c) for c in codes)

    def partners(self, names: Iterable[str]) -> str:
        """A record's partners for a resident: the registry's names as published, and the
        "N other partners" stand-in for unlisted ones (privacy/names.py) in this language."""
        words = []
        for name in names:
            count = other_partners_count(name)
            if count is None:
                words.append(name)
            else:
                key = "other_partners.one" if count == 1 else "other_partners.many"
                words.append(self.text(key, count=count))
        return ", ".join(words)

    @property
    def html_lang(self) -> str:
        return self.language


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    """`2026-11-25 14:00 CST`: the jurisdiction's wall clock with the zone, no seconds."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


@cache
def load_messages(language: str = DEFAULT_LANGUAGE) -> Messages:
    """The catalogue of `language` (`en`, `es`); MessagesError naming the shipped ones."""
    path = MESSAGES_DIR / f"{language}.toml"
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MessagesError(
            f"no message catalogue for language {language!r} "
            f"(shipped: {', '.join(available_languages())}); set `language` in the jurisdiction"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise MessagesError(f"{path}: not valid TOML: {exc}") from exc
    table: dict[str, dict[str, str]] = {}
    for group, entries in raw.items():
        if not isinstance(entries, dict) or not all(isinstance(v, str) for v in entries.values()):
            raise MessagesError(f"{path}: [{group}] must hold strings only")
        table[group] = dict(entries)
    logger.debug("loaded %d message groups for %s", len(table), language)
    return Messages(language, table)
