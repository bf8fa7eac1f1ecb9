"""Names by allow-list: partner organisations and venues the jurisdiction says may be published.

A name is published only when it is listed in the jurisdiction's registry
(`infra/jurisdictions/names/<city>.toml`), and then in the registry's spelling. No heuristic
decides whether a free-text name "looks like" an organisation: "Sgt Mike Hall", "Pastor Jane
Park of Grace Church" and "Jane Park Neighbors Club" read like organisations to any word list, and
are published only if a person at the city wrote them into the registry. An unlisted partner
becomes a count ("2 other partners"); an unlisted venue is dropped (the record keeps its district
and its generalized block).

Matching ignores case, repeated spaces and punctuation (`Eastgate Public Library.` matches
`Eastgate Public Library`) and reads `&` as `and`; nothing looser (no prefixes, no fuzzy match),
so a listed name with a person's name appended is not listed.
"""

from __future__ import annotations

import logging
import re
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

logger = logging.getLogger(__name__)

# A published name is a short label, not a story; longer entries are refused at load time.
MAX_NAME_CHARS = 80
_PUNCTUATION = re.compile(r"[^\w\s]")
_SPACES = re.compile(r"\s+")


class NameRegistryError(ValueError):
    """A registry file that cannot be used; the message names the file and the entry."""


def name_key(text: str) -> str:
    """The form names are compared in: NFKC, case-folded, `&` as `and`, no punctuation."""
    text = unicodedata.normalize("NFKC", text).casefold().replace("&", " and ")
    text = _PUNCTUATION.sub(" ", text.replace("’", "").replace("'", ""))
    return _SPACES.sub(" ", text).strip()


def other_partners(count: int) -> str:
    """The public stand-in for `count` unlisted partners: "1 other partner", "2 other partners"."""
    return f"{count} other partner" if count == 1 else f"{count} other partners"


_OTHER_PARTNERS = re.compile(r"^([1-9]\d*) other partners?$")


def is_other_partners(text: str) -> bool:
    """True for the count stand-in `other_partners` writes (the verifier accepts it)."""
    return bool(_OTHER_PARTNERS.match(text))


def other_partners_count(text: str) -> int | None:
    """N for the stand-in "N other partners" (the site and feeds say it in their language)."""
    match = _OTHER_PARTNERS.match(text)
    return int(match.group(1)) if match else None


@dataclass(frozen=True)
class NameRegistry:
    """The partner organisations and venues one jurisdiction publishes by name."""

    partners: dict[str, str] = field(default_factory=dict)  # name_key -> public spelling
    venues: dict[str, str] = field(default_factory=dict)
    source: str = "(none)"

    @classmethod
    def of(
        cls, partners: Iterable[str] = (), venues: Iterable[str] = (), source: str = "(inline)"
    ) -> NameRegistry:
        return cls(_index(partners, source, "partners"), _index(venues, source, "venues"), source)

    def partner(self, text: object) -> str | None:
        """The public spelling of a listed partner; None when it is not listed (or no text)."""
        return self.partners.get(name_key(text)) if isinstance(text, str) and text else None

    def venue(self, text: object) -> str | None:
        """The public spelling of a listed venue; None when it is not listed (or no text)."""
        return self.venues.get(name_key(text)) if isinstance(text, str) and text else None

    def public_partners(self, names: Iterable[object]) -> list[str]:
        """Listed partners (registry spelling, first-seen order, no repeats), then one
        "N other partners" entry for the distinct unlisted ones, if any."""
        listed: list[str] = []
        others: set[str] = set()
        for text in names:
            key = name_key(text) if isinstance(text, str) else ""
            if not key:  # no name at all (empty, blank, punctuation only): not a partner
                continue
            public = self.partners.get(key)
            if public is None:
                others.add(key)
            elif public not in listed:
                listed.append(public)
        return [*listed, other_partners(len(others))] if others else listed

    def is_published_partner(self, text: str) -> bool:
        """What the verifier accepts in `partners`: a registry spelling or the count stand-in."""
        return text in self.partners.values() or is_other_partners(text)

    def is_published_venue(self, text: str) -> bool:
        return text in self.venues.values()


def _index(names: Iterable[str], source: str, section: str) -> dict[str, str]:
    index: dict[str, str] = {}
    for name in names:
        if not isinstance(name, str) or not name.strip():
            raise NameRegistryError(f"{source}: {section}: every entry must be a non-empty name")
        public = " ".join(name.split())
        if len(public) > MAX_NAME_CHARS or any(c.isdigit() for c in public) or "@" in public:
            raise NameRegistryError(
                f"{source}: {section}: {public!r} is not a publishable name (at most "
                f"{MAX_NAME_CHARS} characters, no digits or e-mail)"
            )
        if is_other_partners(public):
            raise NameRegistryError(f"{source}: {section}: {public!r} is reserved")
        index.setdefault(name_key(public), public)
    return index


def load_name_registry(path: Path | None) -> NameRegistry:
    """The registry in `path` (TOML: `partners = [...]`, `venues = [...]`); an empty registry,
    which publishes no partner or venue by name, when there is no file."""
    if path is None or not path.is_file():
        logger.debug("no name registry at %s: no partner or venue is published by name", path)
        return NameRegistry(source=str(path))
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise NameRegistryError(f"{path}: not valid TOML: {exc}") from exc
    unknown = sorted(set(raw) - {"partners", "venues"})
    if unknown:
        raise NameRegistryError(f"{path}: unknown key {unknown[0]!r} (expected partners, venues)")
    for section in ("partners", "venues"):
        if not isinstance(raw.get(section, []), list):
            raise NameRegistryError(f"{path}: {section} must be a list of names")
    return NameRegistry.of(raw.get("partners", []), raw.get("venues", []), source=str(path))
