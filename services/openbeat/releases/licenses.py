"""The licence of the published data, as the Data Package and the DCAT catalog declare it.

One setting (`OPENBEAT_LICENSE_URL`) names the licence by its canonical URL; the few open
licences portals recognise get their SPDX-style name and title here, any other URL is declared
by its URL alone (valid in both formats).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The default: Creative Commons Attribution 4.0, the most common licence of city open data that
# is not public domain. A city publishing under another licence sets OPENBEAT_LICENSE_URL.
DEFAULT_LICENSE_URL = "https://creativecommons.org/licenses/by/4.0/"

_KNOWN: dict[str, tuple[str, str]] = {
    "https://creativecommons.org/licenses/by/4.0/": (
        "CC-BY-4.0",
        "Creative Commons Attribution 4.0",
    ),
    "https://creativecommons.org/publicdomain/zero/1.0/": (
        "CC0-1.0",
        "Creative Commons CC0 1.0 Universal (public domain dedication)",
    ),
    "https://opendatacommons.org/licenses/pddl/1-0/": (
        "ODC-PDDL-1.0",
        "Open Data Commons Public Domain Dedication and License 1.0",
    ),
    "https://opendatacommons.org/licenses/by/1-0/": (
        "ODC-By-1.0",
        "Open Data Commons Attribution License 1.0",
    ),
    "https://opendatacommons.org/licenses/odbl/1-0/": (
        "ODbL-1.0",
        "Open Data Commons Open Database License 1.0",
    ),
}


@dataclass(frozen=True)
class License:
    url: str
    name: str | None
    title: str


def license_for(url: str | None) -> License:
    """The licence a URL names (the default licence when `url` is empty)."""
    url = (url or "").strip() or DEFAULT_LICENSE_URL
    known = _KNOWN.get(url) or _KNOWN.get(url.rstrip("/") + "/")
    if known:
        return License(url, known[0], known[1])
    return License(url, None, url)


def datapackage_licenses(license_: License) -> list[dict[str, Any]]:
    """The Data Package `licenses` property (name when known, always the path)."""
    entry: dict[str, Any] = {"path": license_.url, "title": license_.title}
    if license_.name:
        entry["name"] = license_.name
    return [entry]
